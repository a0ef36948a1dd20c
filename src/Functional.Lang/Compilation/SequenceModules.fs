/// TorchSharp modules for the sequence and transformer builtins (see Checking/SequenceBuiltins.fs).
module Functional.Lang.Compilation.SequenceModules

open TorchSharp
open Functional.Lang.Checking

/// The module of a sequence node. Only called with the ops of SequenceBuiltins.
let compile (placement: Placement) (node: Node) : torch.nn.Module<torch.Tensor, torch.Tensor> =
    invalidArg (nameof node) (sprintf "%s is not a sequence layer" node.Name)
