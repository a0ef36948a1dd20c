/// Builtins for images and shapes: conv1d, conv2d, maxPool2d, avgPool2d, flatten, reshape, dropout,
/// batchNorm. Each is made at its use site (its Range is where it is written).
module Functional.Lang.Checking.VisionBuiltins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

/// What an integer hyperparameter may be.
type private Bound =
    | Positive
    | NonNegative

/// An integer hyperparameter, checked where it is written.
let private integer what bound (value: Value, at: Range) : Checked<int> =
    let number =
        match value with
        // `conv2d 32` used as a layer receives its input where the kernel belongs.
        | VTensor t -> Checked.fail at (sprintf "%s must be an integer, but it is a tensor of shape %O: is an argument missing?" what t.Shape)
        | _ -> Value.asInt at what value
    number
    |> Result.bind (fun n ->
        match bound with
        | Positive when n <= 0 -> Checked.fail at (sprintf "%s must be positive, but it is %d" what n)
        | NonNegative when n < 0 -> Checked.fail at (sprintf "%s must be at least 0, but it is %d" what n)
        | _ -> Ok n)

/// Both results, or the errors of both: independent hyperparameters are all reported at once.
let private (<&>) (a: Checked<'a>) (b: Checked<'b>) : Checked<'a * 'b> =
    match a, b with
    | Ok x, Ok y -> Ok(x, y)
    | Error e, Ok _
    | Ok _, Error e -> Error e
    | Error e1, Error e2 -> Error(e1 @ e2)

/// The first error of a list of results, or all their values.
let private sequence (results: Result<'a, string> list) : Result<'a list, string> =
    List.foldBack (fun r acc -> Result.bind (fun x -> Result.map (fun xs -> x :: xs) acc) r) results (Ok [])

/// Sequencing for shape inference, whose errors are sentences.
type private AttemptBuilder() =
    member _.Bind(r: Result<'a, string>, f: 'a -> Result<'b, string>) = Result.bind f r
    member _.Return v : Result<_, string> = Ok v

let private attempt = AttemptBuilder()

/// A window slid along each spatial axis (convolution or pooling), the same along every axis.
type private Window =
    { Kernel: int
      Stride: int
      Padding: int
      Dilation: int }

/// PyTorch's output size along one axis: floor((n + 2 padding - dilation (kernel - 1) - 1) / stride) + 1,
/// or 0 when the padded input is shorter than the dilated kernel.
/// In int64, so that large hyperparameters cannot overflow.
let private outputSize (w: Window) (n: int) =
    let span = int64 n + 2L * int64 w.Padding - int64 w.Dilation * int64 (w.Kernel - 1) - 1L
    if span < 0L then 0L else span / int64 w.Stride + 1L

/// The number of elements of a shape whose dimensions are all numbers, without overflow.
let private elements (input: Shape) =
    Shape.tryInts input |> Option.map (List.fold (fun acc d -> acc * bigint d) 1I)

let private fitsInt (n: bigint) = n <= bigint System.Int32.MaxValue

/// A window that gives back an axis of any size unchanged, so a named size (`seq`) can pass through it.
let private keepsSize (w: Window) = w.Stride = 1 && 2 * w.Padding = w.Dilation * (w.Kernel - 1)

let private axesText (axes: string list) = sprintf "[%s]" (String.concat "; " axes)

/// The input's channel dimension and its spatial dimensions, when it has exactly the axes named.
let private channelsAnd name (spatial: string list) (input: Shape) : Result<Dim * Dim list, string> =
    match input.Dims with
    | channels :: rest when rest.Length = spatial.Length -> Ok(channels, rest)
    | _ -> Error(sprintf "%s needs a %s input, but its input is %O" name (axesText ("channels" :: spatial)) input)

let private knownAxis name axis (input: Shape) (dim: Dim) =
    match dim with
    | Known n -> Ok n
    | Symbol s -> Error(sprintf "%s needs its input's %s to be a number, but it is '%s' in %O" name axis s input)

/// The spatial output dimensions of a window slid over the input.
let private slide name (spatial: string list) (w: Window) (input: Shape) (dims: Dim list) =
    List.zip spatial dims
    |> List.map (fun (axis, dim) ->
        match dim with
        | Symbol _ when keepsSize w -> Ok dim
        | Symbol s ->
            Error(
                sprintf
                    "%s needs its input's %s to be a number to work out its output size, but it is '%s' in %O"
                    name axis s input
            )
        | Known n ->
            match outputSize w n with
            | 0L ->
                let dilation = if w.Dilation = 1 then "" else sprintf ", dilation %d" w.Dilation
                Error(
                    sprintf "%s with padding %d would make the %s 0 (input %s %d, kernel %d%s)"
                        name w.Padding axis axis n w.Kernel dilation
                )
            | size when size > int64 System.Int32.MaxValue ->
                Error(sprintf "%s with padding %d would make the %s too large (%d)" name w.Padding axis size)
            | size -> Ok(Known(int size)))
    |> sequence

let private convolution name (spatial: string list) (make: Convolution -> Op) (_: Range) =
    let defaults = [ "stride", VInt 1; "padding", VInt 0; "dilation", VInt 1 ]
    func name [ "outChannels"; "kernel" ] defaults (fun call ->
        let option key bound =
            let fallback = defaults |> List.find (fst >> (=) key) |> snd
            integer (sprintf "%s's %s" name key) bound (optionOr key fallback call)
        let sizes =
            integer (name + "'s number of output channels") Positive call.Args[0]
            <&> integer (name + "'s kernel") Positive call.Args[1]
            <&> option "stride" Positive
            <&> option "padding" NonNegative
            <&> option "dilation" Positive
        sizes
        |> Result.map (fun ((((outputs, kernel), stride), padding), dilation) ->
            let label = sprintf "%s %d %d" name outputs kernel
            let window = { Kernel = kernel; Stride = stride; Padding = padding; Dilation = dilation }
            layer label call.Range (fun input ->
                attempt {
                    do! numeric label input
                    let! channels, dims = channelsAnd label spatial input
                    let! inputs = knownAxis label "channels" input channels
                    let! outDims = slide label spatial window input dims
                    let sizes =
                        { Inputs = inputs
                          Outputs = outputs
                          Kernel = kernel
                          Stride = stride
                          Padding = padding
                          Dilation = dilation }
                    return make sizes, { Dims = Known outputs :: outDims; Tokens = false }
                })))

let private pooling name (make: Pooling -> Op) (_: Range) =
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
                let window = { Kernel = kernel; Stride = stride; Padding = padding; Dilation = 1 }
                layer label call.Range (fun input ->
                    attempt {
                        do! numeric label input
                        let! channels, dims = channelsAnd label spatial input
                        let! outDims = slide label spatial window input dims
                        return make { Kernel = kernel; Stride = stride; Padding = padding }, { Dims = channels :: outDims; Tokens = false }
                    }))))

let private flatten range =
    layer "flatten" range (fun input ->
        match input.Dims with
        | [] -> Error "flatten needs an input with at least one dimension, but its input is a scalar"
        | [ _ ] -> Ok(Flatten, input)
        | dims ->
            match elements input with
            | Some count when fitsInt count -> Ok(Flatten, { input with Dims = [ Known(int count) ] })
            | Some count -> Error(sprintf "flatten would make a dimension of %O elements from %O, too many for one dimension" count input)
            | None ->
                let named = dims |> List.pick (function Symbol s -> Some s | Known _ -> None)
                Error(sprintf "flatten needs every dimension of its input to be a number, but '%s' in %O is not" named input))

/// The dimensions of `reshape [...]`: positive sizes and at most one -1, whose size is inferred.
let private reshapeDims (value: Value, at: Range) : Checked<int list> =
    let notAList () =
        Checked.fail at (sprintf "reshape needs a list of sizes such as [3; 5], but got %s" (Value.describe value))
    match value with
    | VError -> Error []
    | VList items ->
        items
        |> List.map (fun v ->
            match v with
            | VInt n when n > 0 || n = -1 -> Ok n
            | VInt n -> Checked.fail at (sprintf "reshape's sizes must be positive, or -1 for the one to infer, but one is %d" n)
            | v -> Value.asInt at "each of reshape's sizes" v)
        |> Checked.all
        |> Result.bind (fun dims ->
            match dims |> List.filter ((=) -1) |> List.length with
            | inferred when inferred > 1 ->
                Checked.fail at (sprintf "reshape can infer at most one size (-1), but %d are -1" inferred)
            | _ -> Ok dims)
    | _ -> notAList ()

let private reshape (_: Range) =
    func "reshape" [ "shape" ] [] (fun call ->
        reshapeDims call.Args[0]
        |> Result.map (fun dims ->
            let label = sprintf "reshape [%s]" (dims |> List.map string |> String.concat "; ")
            // The sizes given, without the one to infer; never 0, since each size is positive.
            let given = dims |> List.filter ((<>) -1) |> List.fold (fun acc d -> acc * bigint d) 1I
            layer label call.Range (fun input ->
                match elements input with
                | None -> Error(sprintf "%s needs its input's size to be known, but its input is %O" label input)
                | Some count when List.contains -1 dims ->
                    let inferred = count / given
                    if count % given <> 0I then
                        Error(sprintf "%s needs a number of elements divisible by %O, but its input %O has %O" label given input count)
                    elif not (fitsInt inferred) then
                        Error(sprintf "%s would infer a size of %O, too large for one dimension" label inferred)
                    else
                        let resolved = dims |> List.map (fun d -> if d = -1 then int inferred else d)
                        Ok(Reshape resolved, { input with Dims = List.map Known resolved })
                | Some count when count = given -> Ok(Reshape dims, { input with Dims = List.map Known dims })
                | Some count -> Error(sprintf "%s needs %O elements, but its input %O has %O" label given input count))))

let private dropout (_: Range) =
    func "dropout" [ "rate" ] [] (fun call ->
        let value, at = call.Args[0]
        Value.asFloat at "dropout's rate" value
        |> Result.bind (fun rate ->
            if rate >= 0.0 && rate < 1.0 then
                let label = sprintf "dropout %g" rate
                Ok(layer label call.Range (fun input -> numeric label input |> Result.map (fun () -> Dropout rate, input)))
            else Checked.fail at (sprintf "dropout's rate must be at least 0 and below 1, but it is %g" rate)))

/// Normalises each channel over the batch (and over the length or the image): [c], [c; len], [c; h; w].
let private batchNorm range =
    let name = "batchNorm"
    layer name range (fun input ->
        numeric name input
        |> Result.bind (fun () ->
            match input.Dims with
            | [ channels ]
            | [ channels; _ ]
            | [ channels; _; _ ] -> knownAxis name "channels" input channels |> Result.map (fun c -> BatchNorm c, input)
            | _ ->
                Error(
                    sprintf "%s needs a [channels], [channels; length] or [channels; height; width] input, but its input is %O" name input
                )))

let table: (string * (Range -> Value)) list =
    [ "conv1d", convolution "conv1d" [ "length" ] Conv1d
      "conv2d", convolution "conv2d" [ "height"; "width" ] Conv2d
      "maxPool2d", pooling "maxPool2d" MaxPool2d
      "avgPool2d", pooling "avgPool2d" AvgPool2d
      "flatten", flatten
      "reshape", reshape
      "dropout", dropout
      "batchNorm", batchNorm ]
