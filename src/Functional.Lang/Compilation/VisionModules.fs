/// TorchSharp modules for the vision and shape builtins (see Checking/VisionBuiltins.fs).
module Functional.Lang.Compilation.VisionModules

open TorchSharp
open Functional.Lang.Checking

/// The module of a vision or shape node. Only called with the ops of VisionBuiltins.
let compile (placement: Placement) (node: Node) : torch.nn.Module<torch.Tensor, torch.Tensor> =
    invalidArg (nameof node) (sprintf "%s is not a vision layer" node.Name)
