/// The differentiable API agrees with analytic derivatives of small functions and with central finite
/// differences on a compiled model, and leaves the caller's tensors and the model's `.grad` alone.
module Functional.Lang.Tests.DifferentiableTests

open System
open Expecto
open TorchSharp
open Functional
open Functional.Lang
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport

type private Tensor = torch.Tensor

let private f64 = torch.ScalarType.Float64

let private vector (values: float list) = torch.tensor(Array.ofList values, dtype = f64)

let private matrix (rows: float list list) =
    let n = int64 rows.Length
    torch.tensor(rows |> List.concat |> Array.ofList, dtype = f64).reshape(n, -1L)

/// Random float64 values from a generator of our own: other tests reseeding torch's global generator in
/// parallel cannot change them.
let private random (seed: int64) (shape: int64[]) =
    use generator = new torch.Generator(uint64 seed)
    torch.randn(shape, dtype = f64, generator = generator)

let private expectClose (tolerance: float) (expected: Tensor) (actual: Tensor) (message: string) =
    Expect.equal actual.shape expected.shape (message + ": shape")
    Expect.equal actual.dtype expected.dtype (message + ": element type")
    let diff = if expected.numel () = 0L then 0.0 else (actual - expected).abs().max().item<float> ()
    Expect.isLessThan diff tolerance (sprintf "%s: largest difference %g" message diff)

let private exact = expectClose 1e-12

/// The exception `f` raises, which must be a `'E`.
let private raises<'E when 'E :> exn> (f: unit -> unit) (message: string) : 'E =
    try
        f ()
        failtestf "%s: expected %s, but nothing was raised" message typeof<'E>.Name
    with
    | :? 'E as e -> e

/// Central finite differences of a scalar function along each element of `x` (a fresh copy each time).
let private numericGradient (f: Tensor -> float) (x: Tensor) =
    let eps = 1e-6
    let flat = x.detach().clone().reshape(-1L)
    let grads =
        [| for i in 0L .. flat.numel () - 1L ->
               let at delta =
                   use moved = flat.clone ()
                   moved[i] <- torch.tensor(flat[i].item<float> () + delta, dtype = f64)
                   f (moved.reshape(x.shape))
               (at eps - at -eps) / (2.0 * eps) |]
    torch.tensor(grads, dtype = f64).reshape(x.shape)

/// `model M : [3] -> [2] = dense 4 >> tanh >> dense 2` in float64, with weights from our own generator.
let private compiledModel () : CompiledModel =
    let source = "model M : [3] -> [2] =\n    dense 4 >> tanh >> dense 2\n"
    let m = checkedProgram source |> model "M"
    let net = Language.compileSeeded { Device = torch.CPU; DType = f64 } 3L m
    use _ = torch.no_grad ()
    let mutable seed = 100L
    for struct (_, p) in net.named_parameters () do
        seed <- seed + 1L
        use values = random seed p.shape
        p.copy_(values) |> ignore
    net.eval () |> ignore
    net

let private paths (net: CompiledModel) = [ for struct (path, _) in net.named_parameters () -> path ]

let private parameter (net: CompiledModel) path =
    net.named_parameters () |> Seq.pick (fun struct (q, p) -> if q = path then Some(p :> Tensor) else None)

/// Runs `body` with every parameter moved by `scale * direction[path]`, restoring them afterwards.
let private shifted (net: CompiledModel) (direction: (string * Tensor) list) (scale: float) (body: unit -> 'T) : 'T =
    let originals = [ for struct (path, p) in net.named_parameters () -> path, p.detach().clone() ]
    try
        use _ = torch.no_grad ()
        for (path, d) in direction do
            (parameter net path).add_(d * scale) |> ignore
        body ()
    finally
        use _ = torch.no_grad ()
        for (path, original) in originals do
            (parameter net path).copy_(original) |> ignore

/// Every parameter's `.grad` is still undefined.
let private expectNoGrads (net: CompiledModel) =
    for struct (path, p) in net.named_parameters () do
        Expect.isTrue (isNull (box p.grad)) (sprintf "%s.grad stays null" path)

// f(x) = [x0·x1 + x2; sin(x0)·x2²], with Jacobian [[x1, x0, 1]; [cos(x0)·x2², 0, 2 sin(x0)·x2]].
let private twoOfThree (x: Tensor) = torch.stack([| x[0L] * x[1L] + x[2L]; torch.sin(x[0L]) * x[2L] * x[2L] |])

let private twoOfThreeJacobian (x: float[]) =
    matrix [ [ x[1]; x[0]; 1.0 ]; [ cos x[0] * x[2] * x[2]; 0.0; 2.0 * sin x[0] * x[2] ] ]

let private firstOrder =
    testList "first order" [
        test "grad of a sum of squares is 2x" {
            use x = vector [ 1.0; -2.0; 0.5 ]
            use g = Differentiable.grad (fun x -> (x * x).sum()) x
            exact (x * 2.0) g "gradient"
        }

        test "valueAndGrad of sum(sin x) is (sum(sin x), cos x), for a matrix input" {
            use x = matrix [ [ 0.1; 0.2; 0.3 ]; [ -1.0; 2.0; 3.0 ] ]
            let value, g = Differentiable.valueAndGrad (fun x -> x.sin().sum()) x
            exact (x.sin().sum()) value "value"
            exact (x.cos()) g "gradient"
            Expect.isFalse value.requires_grad "value is detached"
            Expect.isFalse g.requires_grad "gradient is detached"
        }

        test "vjp is uᵀJ and jvp is J v for the analytic Jacobian of a 3 -> 2 function" {
            let values = [| 0.7; -1.3; 2.0 |]
            use x = vector (List.ofArray values)
            use jac = twoOfThreeJacobian values
            use u = vector [ 0.5; -2.0 ]
            use v = vector [ 1.0; 3.0; -0.25 ]
            let y1, utj = Differentiable.vjp twoOfThree x u
            exact (twoOfThree x) y1 "vjp value"
            exact (u.matmul(jac)) utj "uᵀJ"
            let y2, jv = Differentiable.jvp twoOfThree x v
            exact (twoOfThree x) y2 "jvp value"
            exact (jac.matmul(v)) jv "J v"
        }

        test "jacobian has shape (output) @ (input) and is the analytic Jacobian" {
            let values = [| 0.3; 0.9; -0.4 |]
            use x = vector (List.ofArray values)
            exact (twoOfThreeJacobian values) (Differentiable.jacobian twoOfThree x) "Jacobian"
            // f(X) = X Aᵀ for X : [2; 3]: ∂(f X)[i, a]/∂X[j, b] = δij A[a, b]
            use a = matrix [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
            use xs = matrix [ [ 1.0; 0.0; -1.0 ]; [ 2.0; 1.0; 0.5 ] ]
            use expected = torch.einsum("ij,ab->iajb", torch.eye(2L, dtype = f64), a)
            exact expected (Differentiable.jacobian (fun x -> x.matmul(a.t())) xs) "Jacobian of a linear map"
        }

        test "functions that do not depend on x have zero derivatives" {
            use x = vector [ 1.0; 2.0 ]
            use c = vector [ 3.0 ]
            exact (torch.zeros_like x) (Differentiable.grad (fun _ -> c.sum()) x) "constant: grad"
            exact (torch.zeros(1L, 2L, dtype = f64)) (Differentiable.jacobian (fun _ -> c) x) "constant: jacobian"
            use w = vector [ 1.0; 1.0 ]
            w.requires_grad <- true
            exact (torch.zeros_like x) (Differentiable.grad (fun _ -> (w * w).sum()) x) "depends on another leaf only"
            Expect.isTrue (isNull (box w.grad)) "the other leaf's .grad is untouched"
            exact (torch.zeros(2L, 2L, dtype = f64)) (Differentiable.hessian (fun x -> x.sum()) x) "linear: hessian"
            let _, jv = Differentiable.jvp (fun _ -> c * 2.0) x (vector [ 1.0; 1.0 ])
            exact (torch.zeros(1L, dtype = f64)) jv "constant: jvp"
        }

        test "the caller's tensors keep requires_grad = false, also under no_grad" {
            use x = vector [ 1.0; 2.0; 3.0 ]
            use v = vector [ 1.0; 0.0; 0.0 ]
            use _ = torch.no_grad ()
            let g = Differentiable.grad (fun x -> (x * x * x).sum()) x
            let h = Differentiable.hvp (fun x -> (x * x * x).sum()) x v
            Expect.isFalse x.requires_grad "x.requires_grad"
            Expect.isFalse v.requires_grad "v.requires_grad"
            Expect.isTrue (isNull (box x.grad)) "x.grad"
            exact (x * x * 3.0) g "gradient under no_grad"
            exact (vector [ 6.0; 0.0; 0.0 ]) h "hvp under no_grad"
            Expect.isFalse (torch.is_grad_enabled ()) "no_grad is still in force afterwards"
        }

        test "results belong to the caller's dispose scope; intermediates are disposed" {
            use x = vector [ 1.0; 2.0 ]
            let g, inner =
                use scope = torch.NewDisposeScope()
                let g = Differentiable.grad (fun x -> (x.exp() * x).sum()) x
                let inner = Differentiable.hessian (fun x -> (x.exp() * x).sum()) x
                Expect.isFalse inner.IsInvalid "hessian alive inside the scope"
                g.MoveToOuterDisposeScope(), inner
            Expect.isTrue inner.IsInvalid "a result left in the caller's scope is disposed with it"
            Expect.isFalse g.IsInvalid "a result moved out of the caller's scope survives"
            exact ((x + 1.0) * x.exp()) g "gradient"
            g.Dispose()
        }
    ]

let private secondOrder =
    testList "second order" [
        test "hvp and hessian of sum(x³) are 6x ⊙ v and diag(6x)" {
            use x = vector [ 1.0; -2.0; 0.5; 3.0 ]
            use v = vector [ 0.5; 1.0; -1.0; 2.0 ]
            let cubes (x: Tensor) = (x * x * x).sum()
            exact (x * v * 6.0) (Differentiable.hvp cubes x v) "H v"
            exact (torch.diag(x * 6.0)) (Differentiable.hessian cubes x) "H"
        }

        test "hvp and hessian of a quadratic form xᵀAx are (A + Aᵀ) v and A + Aᵀ" {
            use a = matrix [ [ 1.0; 2.0; 0.0 ]; [ -1.0; 3.0; 4.0 ]; [ 0.5; 0.0; 2.0 ] ]
            use x = vector [ 0.3; -0.7; 1.1 ]
            use v = vector [ 1.0; 2.0; -3.0 ]
            let form (x: Tensor) = x.dot(a.matmul(x))
            exact ((a + a.t()).matmul(v)) (Differentiable.hvp form x v) "H v"
            exact (a + a.t()) (Differentiable.hessian form x) "H"
        }

        test "hessian of a function of a matrix has shape (input) @ (input)" {
            // f(X) = Σ X[i,j]² X[0,0]: ∂²f/∂X[0,0]² = 6 X[0,0]; ∂²f/∂X[0,0]∂X[i,j] = 2 X[i,j]; ∂²f/∂X[i,j]² = 2 X[0,0]
            use x = matrix [ [ 2.0; 1.0 ]; [ -1.0; 3.0 ] ]
            let h = Differentiable.hessian (fun x -> (x * x).sum() * x[0L, 0L]) x
            Expect.equal h.shape [| 2L; 2L; 2L; 2L |] "shape"
            use expected =
                matrix [ [ 12.0; 2.0; -2.0; 6.0 ]; [ 2.0; 4.0; 0.0; 0.0 ]; [ -2.0; 0.0; 4.0; 0.0 ]; [ 6.0; 0.0; 0.0; 4.0 ] ]
            exact (expected.reshape(2L, 2L, 2L, 2L)) h "H"
        }
    ]

let private onModel =
    testList "compiled model" [
        test "gradient w.r.t. the input agrees with central finite differences" {
            use net = compiledModel ()
            use x = random 1L [| 5L; 3L |]
            use w = random 2L [| 5L; 2L |]
            let loss (x: Tensor) = (net.forward x * w).sum()
            use g = Differentiable.grad loss x
            use numeric = numericGradient (fun x -> (loss x).item<float> ()) x
            expectClose 1e-7 numeric g "d loss / d input"
            Expect.isFalse x.requires_grad "input keeps requires_grad = false"
            Expect.isTrue (isNull (box x.grad)) "input.grad"
            expectNoGrads net
        }

        test "jvp on the model's forward agrees with finite differences along v" {
            use net = compiledModel ()
            use x = random 3L [| 4L; 3L |]
            use v = random 4L [| 4L; 3L |]
            let y, jv = Differentiable.jvp net.forward x v
            exact (net.forward x) y "value"
            let eps = 1e-6
            use numeric = (net.forward (x + v * eps) - net.forward (x - v * eps)) / (2.0 * eps)
            expectClose 1e-8 numeric jv "J v"
            use u = random 5L [| 4L; 2L |]
            let _, utj = Differentiable.vjp net.forward x u
            // uᵀ(J v) = (uᵀJ) v
            Expect.floatClose Accuracy.high ((u * jv).sum().item<float> ()) ((utj * v).sum().item<float> ()) "uᵀ(J v) = (uᵀJ) v"
            expectNoGrads net
        }

        test "gradParameters agrees with central finite differences, by path" {
            use net = compiledModel ()
            use x = random 6L [| 5L; 3L |]
            use target = random 7L [| 5L; 2L |]
            let loss (y: Tensor) = ((y - target) * (y - target)).mean()
            let grads = Differentiable.gradParameters net loss x
            Expect.equal (List.map fst grads) (paths net) "one gradient per parameter path, in order"
            for (path, g) in grads do
                let p = parameter net path
                Expect.equal g.shape p.shape (path + ": shape")
                let numeric =
                    numericGradient
                        (fun moved ->
                            use d = moved - p.detach()
                            shifted net [ path, d ] 1.0 (fun () -> (loss (net.forward x)).item<float> ()))
                        p
                expectClose 1e-7 numeric g ("d loss / d " + path)
            expectNoGrads net
            Expect.isFalse x.requires_grad "input keeps requires_grad = false"
            Expect.isTrue (net.parameters () |> Seq.forall (fun p -> p.requires_grad)) "parameters still require grad"
        }

        test "hvpParameters agrees with central finite differences of gradParameters" {
            use net = compiledModel ()
            use x = random 8L [| 5L; 3L |]
            use target = random 9L [| 5L; 2L |]
            let loss (y: Tensor) = ((y - target) * (y - target)).sum() + y.sin().sum()
            let v = paths net |> List.mapi (fun i path -> path, random (20L + int64 i) (parameter net path).shape)
            let hv = Differentiable.hvpParameters net loss x v
            Expect.equal (List.map fst hv) (paths net) "one product per parameter path, in order"
            let eps = 1e-5
            let plus = shifted net v eps (fun () -> Differentiable.gradParameters net loss x)
            let minus = shifted net v -eps (fun () -> Differentiable.gradParameters net loss x)
            for ((path, h), ((_, gp), (_, gm))) in List.zip hv (List.zip plus minus) do
                use numeric = (gp - gm) / (2.0 * eps)
                expectClose 1e-7 numeric h ("(H v) for " + path)
            expectNoGrads net
        }

        test "hvpParameters with v along one parameter only matches a hessian restricted to it" {
            // The last layer's bias enters the output linearly, so with a squared loss its block of the
            // Hessian is 2·batch·I and the products with the other directions vanish from its row.
            use net = compiledModel ()
            use x = random 10L [| 5L; 3L |]
            let loss (y: Tensor) = (y * y).sum()
            let v = [ for path in paths net -> path, (if path = "2.bias" then vector [ 1.0; -1.0 ] else torch.zeros_like (parameter net path)) ]
            let hv = Differentiable.hvpParameters net loss x v |> Map.ofList
            exact (vector [ 10.0; -10.0 ]) hv["2.bias"] "2.bias block"
        }
    ]

let private errors =
    testList "errors" [
        test "grad of a non-scalar function is an ArgumentException naming the shape" {
            use x = vector [ 1.0; 2.0 ]
            let e = raises<ArgumentException> (fun () -> Differentiable.grad (fun x -> x * 2.0) x |> ignore) "grad"
            let message = e.Message
            Expect.stringContains message "scalar-valued" "says what is wrong"
            Expect.stringContains message "[2]" "names the shape"
            Expect.stringContains message "vjp" "suggests what to use instead"
            Expect.isFalse x.requires_grad "x untouched after the error"
        }

        test "hvp and hessian refuse non-scalar functions too; so does gradParameters for a non-scalar loss" {
            use x = vector [ 1.0; 2.0 ]
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.hvp (fun x -> x * x) x x |> ignore) "hvp"
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.hessian (fun x -> x * x) x |> ignore) "hessian"
            use net = compiledModel ()
            use input = random 11L [| 2L; 3L |]
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.gradParameters net id input |> ignore) "gradParameters"
            expectNoGrads net
        }

        test "vectors of the wrong shape, integer inputs and unknown parameter paths are ArgumentExceptions" {
            use x = vector [ 1.0; 2.0; 3.0 ]
            use wrong = vector [ 1.0; 2.0 ]
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.jvp twoOfThree x wrong |> ignore) "jvp: v"
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.vjp twoOfThree x x |> ignore) "vjp: u"
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.hvp (fun x -> x.sum()) x wrong |> ignore) "hvp: v"
            use ints = torch.tensor([| 1L; 2L |])
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.grad (fun x -> x.sum()) ints |> ignore) "integer x"
            use net = compiledModel ()
            use input = random 12L [| 2L; 3L |]
            let loss (y: Tensor) = y.sum()
            let full = [ for path in paths net -> path, torch.zeros_like (parameter net path) ]
            let e = raises<ArgumentException> (fun () -> Differentiable.hvpParameters net loss input (("nope", wrong) :: full) |> ignore) "unknown path"
            Expect.stringContains e.Message "0.weight" "lists the real paths"
            Expect.throwsT<ArgumentException> (fun () -> Differentiable.hvpParameters net loss input (List.tail full) |> ignore) "missing path"
            Expect.throwsT<ArgumentException>
                (fun () -> Differentiable.hvpParameters net loss input (("0.bias", wrong) :: List.filter (fun (p, _) -> p <> "0.bias") full) |> ignore)
                "wrong shape"
        }

        test "an error raised inside f is an exception, and x is left as it was" {
            use x = vector [ 1.0; 2.0 ]
            // exp saves its result for backward; changing it in place makes backward refuse
            let inPlace (x: Tensor) = (let e = x.exp() in e.add_(torch.ones_like e)).sum()
            Expect.throws (fun () -> Differentiable.grad inPlace x |> ignore) "backward's refusal is an exception"
            Expect.throwsT<InvalidOperationException>
                (fun () ->
                    use _ = torch.inference_mode ()
                    Differentiable.grad (fun x -> x.sum()) x |> ignore)
                "inference_mode"
            Expect.isFalse x.requires_grad "x untouched"
        }
    ]

[<Tests>]
let tests = testList "Differentiable" [ firstOrder; secondOrder; onModel; errors ]
