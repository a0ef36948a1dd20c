namespace Functional.Lang.Compilation

open TorchSharp
open Functional.Lang.Checking

/// A compiled model: a TorchSharp module whose state_dict keys are the checked model's parameter paths
/// (`0.weight`, `w1`), together with the checked model it came from, for tools that walk it by path.
/// The body's parts are registered here rather than the body itself, so that paths start at the body
/// (`0.weight`, as in a PyTorch Sequential), not at `body.0.weight`.
type CompiledModel(model: Model, placement: Placement, body: Module, layers: (Node * Module) list) =
    inherit AdoptingModule(model.Name, (if model.Body.Path = "" then None else Some model.Body.Path), body)
    let held = Array.ofList layers // an array: not registered again by TorchSharp's reflection
    member _.Model = model
    member _.Placement = placement

    /// Every layer's node and module, parents first (a shared layer once), for tools that walk the
    /// network by path (summary, trace).
    member _.Layers: (Node * Module) list = List.ofArray held
    override this.forward(input: torch.Tensor) = this.RunBody input
