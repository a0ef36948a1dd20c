/// `maxPool2d kernel (stride, padding)` and `avgPool2d kernel (stride, padding)` over [channels; height;
/// width]; the stride defaults to the kernel, as in PyTorch. No weights.
module Functional.Lang.Layers.Pooling

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Kernel: int; Stride: int; Padding: int }

let maxPool2d: Definition<Settings> =
    Definition.weightless "maxPool2d" (fun p _ ->
        let kernel, stride, padding = [| int64 p.Kernel; int64 p.Kernel |], [| int64 p.Stride; int64 p.Stride |], [| int64 p.Padding; int64 p.Padding |]
        fun _ x -> torch.nn.functional.max_pool2d (x, kernel, stride, padding))

let avgPool2d: Definition<Settings> =
    Definition.weightless "avgPool2d" (fun p _ ->
        let kernel, stride, padding = [| int64 p.Kernel; int64 p.Kernel |], [| int64 p.Stride; int64 p.Stride |], [| int64 p.Padding; int64 p.Padding |]
        fun _ x -> torch.nn.functional.avg_pool2d (x, kernel, stride, padding))

let private pooling name (definition: Definition<Settings>) (_: Syntax.Range) =
    let spatial = [ "height"; "width" ]
    func name [ "kernel" ] [ "stride", VString "kernel"; "padding", VInt 0 ] (fun call ->
        integer (name + "'s kernel") Positive call.Args[0]
        |> Result.bind (fun kernel ->
            // The stride defaults to the kernel, as in PyTorch: windows that tile the input.
            let stride =
                match Map.tryFind "stride" call.Named with
                | Some given -> integer (name + "'s stride") Positive given
                | None -> Ok kernel
            let padding =
                let value, at = optionOr "padding" (VInt 0) call
                integer (name + "'s padding") NonNegative (value, at)
                |> Result.bind (fun p ->
                    // PyTorch refuses padding beyond half the kernel: a window would see only padding.
                    if p <= kernel / 2 then Ok p
                    else Checked.fail at (sprintf "%s's padding must be at most half its kernel (%d), but it is %d" name (kernel / 2) p))
            stride <&> padding
            |> Result.map (fun (stride, padding) ->
                let label = sprintf "%s %d" name kernel
                let window: Window = { Kernel = kernel; Stride = stride; Padding = padding; Dilation = 1 }
                layer label call.Range (fun input ->
                    attempt {
                        do! numeric label input
                        let! channels, dims = channelsAnd label spatial input
                        let! outDims = slide label spatial window input dims
                        let settings: Settings = { Kernel = kernel; Stride = stride; Padding = padding }
                        return primitive definition settings, { Dims = channels :: outDims; Tokens = false }
                    }))))

let builtins: (string * (Syntax.Range -> Value)) list =
    [ "maxPool2d", pooling "maxPool2d" maxPool2d
      "avgPool2d", pooling "avgPool2d" avgPool2d ]
