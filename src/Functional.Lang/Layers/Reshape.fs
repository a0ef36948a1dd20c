/// `reshape [d1; d2; ...]`: gives each example the shape written (one size may be -1, inferred from the
/// input's). No weights.
module Functional.Lang.Layers.Reshape

open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

/// The per-example dimensions, the inferred one resolved.
type Settings = { Dims: int list }

let definition: Definition<Settings> =
    Definition.weightless "reshape" (fun s _ ->
        let perExample = s.Dims |> List.map int64 |> Array.ofList
        // The batch dimension is kept as it comes.
        fun _ x -> x.reshape (Array.append [| x.shape[0] |] perExample))

/// The dimensions of `reshape [...]`: positive sizes and at most one -1, whose size is inferred.
let private reshapeDims (value: Value, at: Syntax.Range) : Checked<int list> =
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

let private reshape (_: Syntax.Range) =
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
                        Ok(primitive definition { Dims = resolved }, { input with Dims = List.map Known resolved })
                | Some count when count = given -> Ok(primitive definition { Dims = dims }, { input with Dims = List.map Known dims })
                | Some count -> Error(sprintf "%s needs %O elements, but its input %O has %O" label given input count))))

let builtins: (string * (Syntax.Range -> Value)) list = [ "reshape", reshape ]
