/// TorchSharp modules for the vision and shape builtins (see Checking/VisionBuiltins.fs).
module Functional.Lang.Compilation.VisionModules

open System
open TorchSharp
open Functional.Lang.Checking

/// Gives each example the checked shape `dims`; the batch dimension is kept as it comes.
type private ReshapeModule(dims: int list) =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>("Reshape")
    let perExample = dims |> List.map int64 |> Array.ofList

    override _.forward(input: torch.Tensor) = input.reshape(Array.append [| input.shape[0] |] perExample)

/// The module of a vision or shape node. Only called with the ops of VisionBuiltins.
/// Built-in TorchSharp modules throughout, so that state_dict names and numerics are PyTorch's.
let compile (placement: Placement) (node: Node) : torch.nn.Module<torch.Tensor, torch.Tensor> =
    let device, dtype = placement.Device, placement.DType
    match node.Op with
    | Flatten -> torch.nn.Flatten()
    | Reshape dims -> new ReshapeModule(dims)
    // A module (not the functional form) so that train() and eval() switch it on and off.
    | Dropout rate -> torch.nn.Dropout(rate)
    | Conv1d c ->
        torch.nn.Conv1d(
            int64 c.Inputs, int64 c.Outputs, int64 c.Kernel,
            stride = int64 c.Stride, padding = int64 c.Padding, dilation = int64 c.Dilation,
            device = device, dtype = dtype
        )
    | Conv2d c ->
        torch.nn.Conv2d(
            int64 c.Inputs, int64 c.Outputs, int64 c.Kernel,
            stride = int64 c.Stride, padding = int64 c.Padding, dilation = int64 c.Dilation,
            device = device, dtype = dtype
        )
    | MaxPool2d p -> torch.nn.MaxPool2d(int64 p.Kernel, stride = Nullable(int64 p.Stride), padding = Nullable(int64 p.Padding))
    | AvgPool2d p -> torch.nn.AvgPool2d(int64 p.Kernel, stride = Nullable(int64 p.Stride), padding = Nullable(int64 p.Padding))
    | BatchNorm features ->
        // The checker allows [c], [c; len] and [c; h; w]: batched, these are BatchNorm1d's and BatchNorm2d's.
        let norm: Modules.BatchNorm =
            match Shape.rank node.Input with
            | 3 -> torch.nn.BatchNorm2d(int64 features, device = device, dtype = dtype)
            | _ -> torch.nn.BatchNorm1d(int64 features, device = device, dtype = dtype)
        // TorchSharp gives num_batches_tracked the dtype asked for; PyTorch's count is always int64.
        norm.num_batches_tracked <- torch.tensor(0L, dtype = torch.ScalarType.Int64, device = device)
        norm
    | _ -> invalidArg (nameof node) (sprintf "%s is not a vision layer" node.Name)
