/// Looking inside a compiled network: each layer's input, output and gradient for given examples.
/// The run's context carries an observer only while a trace runs, so a network costs nothing extra when
/// nobody looks.
module Functional.Inspection

open TorchSharp
open Functional.Lang.Compilation

/// One layer's part in a forward pass, in the order the layers finish (a layer inside another comes
/// before it; a layer applied twice appears twice).
type LayerTrace =
    { Path: string
      Layer: string
      Input: torch.Tensor
      Output: torch.Tensor
      /// d loss / d output, when the trace was given a loss.
      OutputGradient: torch.Tensor option }

/// Runs `model` on `input` once, in its current mode, recording every layer's input and output (detached
/// copies, owned by the caller's dispose scope); with a `loss` of the output, also the gradient of that
/// loss with respect to each layer's output. The model's parameters' gradients are left as they were.
let trace (model: CompiledModel) (input: torch.Tensor) (loss: (torch.Tensor -> torch.Tensor) option) : LayerTrace list =
    let records = ResizeArray<string * string * torch.Tensor * torch.Tensor>()
    let observer =
        Observer(fun path layer x y ->
            if loss.IsSome && y.requires_grad then y.retain_grad () |> ignore
            records.Add(path, layer, x, y))
    use _ = torch.enable_grad ()
    let output = model.Run({ model.Context() with Observer = Some observer }, input)
    match loss with
    | Some f when records.Count > 0 ->
        let outputs = records |> Seq.map (fun (_, _, _, y) -> y) |> Seq.filter (fun y -> y.requires_grad) |> Array.ofSeq
        if outputs.Length > 0 then (f output).backward(inputs = outputs)
    | _ -> ()
    [ for (path, name, x, y) in records ->
          let gradient = if loss.IsSome && not (isNull y.grad) then Some(y.grad.detach().clone()) else None
          { Path = path
            Layer = name
            Input = x.detach().clone()
            Output = y.detach().clone()
            OutputGradient = gradient } ]
