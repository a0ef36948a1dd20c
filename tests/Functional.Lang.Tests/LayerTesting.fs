/// Tools for testing builtins: compile one model body, compare with a TorchSharp module, check gradients
/// against central finite differences in float64.
module Functional.Lang.Tests.LayerTesting

open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport

let float64 = { Device = torch.CPU; DType = torch.ScalarType.Float64 }

/// Compiles `model M : <signature> =\n    <body>` with seeded weights, in float64.
let compileBody (signature: string) (body: string) : CompiledModel =
    let source = sprintf "model M : %s =\n    %s\n" signature body
    let m = checkedProgram source |> model "M"
    Language.compileSeeded float64 17L m

/// Random float64 input of shape [batch; ...dims], from a fixed seed.
let randomInput (dims: int64 list) =
    torch.manual_seed 23L |> ignore
    torch.randn(Array.ofList dims, dtype = torch.ScalarType.Float64)

let expectClose (expected: torch.Tensor) (actual: torch.Tensor) message =
    Expect.equal actual.shape expected.shape (message + ": shape")
    let diff = (actual - expected).abs().max().item<float>()
    Expect.isLessThan diff 1e-9 (sprintf "%s: largest difference %g" message diff)

/// Copies our module's weights into a TorchSharp reference module with the same parameter names.
let loadInto (reference: torch.nn.Module) (ours: CompiledModel) =
    reference.load_state_dict(ours.state_dict(), strict = true) |> ignore
    reference.``to``(torch.ScalarType.Float64) |> ignore

/// Central finite differences of a scalar function of the network's output against autograd, for the
/// input (if it is floating point) and every parameter; at most `samples` elements of each tensor.
let gradcheck (net: CompiledModel) (input: torch.Tensor) =
    let samples = 12
    net.eval () |> ignore
    let x = input.detach().clone()
    let floating = x.is_floating_point ()
    if floating then x.requires_grad <- true
    torch.manual_seed 29L |> ignore
    let weights = torch.randn_like(net.forward x).detach()
    let loss () = (net.forward x * weights).sum()
    net.zero_grad ()
    (loss ()).backward ()
    let tensors =
        [ if floating then yield "input", x
          for struct (name, p) in net.named_parameters() do
              yield name, (p :> torch.Tensor) ]
    for (name, t) in tensors do
        let analytic = t.grad.contiguous().view(-1L)
        use _ = torch.no_grad ()
        let flat = t.view(-1L)
        let n = flat.numel ()
        let indices = if n <= int64 samples then [ 0L .. n - 1L ] else [ for i in 0 .. samples - 1 -> (int64 i * 7919L) % n ]
        for i in indices do
            let original = flat[i].item<float>()
            let eps = 1e-6
            flat[i] <- torch.tensor((original + eps), dtype = t.dtype)
            let plus = (loss ()).item<float>()
            flat[i] <- torch.tensor((original - eps), dtype = t.dtype)
            let minus = (loss ()).item<float>()
            flat[i] <- torch.tensor(original, dtype = t.dtype)
            let numeric = (plus - minus) / (2.0 * eps)
            let exact = analytic[i].item<float>()
            Expect.floatClose { absolute = 1e-6; relative = 1e-5 } exact numeric (sprintf "d/d %s[%d]" name i)
