/// The generation cache: a model given its positions a few at a time, with each causal attention's keys and
/// values kept, computes what it computes over the whole sequence; and which models may be cached.
module Functional.Lang.Tests.GenerationCacheTests

open Expecto
open TorchSharp
open Functional.Lang
open Functional.Lang.Compilation
open Functional.Lang.Tests.TestSupport
open Functional.Lang.Tests.LayerTesting

let private gpt =
    """
let block (dim: int) (heads: int) =
    residual (layerNorm >> attention heads (causal = true))
    >> residual (layerNorm >> dense (4 * dim) >> gelu >> dense dim)

model Gpt : [seq] int -> [seq; 11] =
    embed 11 16 >> positional 12 >> dropout 0.1
    >> repeat 2 (block 16 4)
    >> layerNorm >> dense 11

model Sines : [seq] int -> [seq; 11] =
    embed 11 8 >> sinusoidal 12 >> residual (attention 2 (causal = true)) >> dense 11

model Twice : [seq] int -> [seq; 11] =
    let mix = residual (layerNorm >> attention 2 (causal = true))
    embed 11 8 >> positional 12 >> mix >> relu >> mix >> dense 11
"""

let private tokens (length: int64) =
    torch.manual_seed 41L |> ignore
    torch.randint(11L, [| 1L; length |], dtype = torch.ScalarType.Int64)

/// The model run over `ids` in pieces of the given lengths, one cache throughout: each piece's outputs.
let private incremental (net: CompiledModel) (ids: torch.Tensor) (pieces: int list) =
    use cache = new GenerationCache()
    let context = { net.Context() with Training = false; Cache = Some cache }
    let mutable start = 0L
    [ for n in pieces do
          let piece = ids.narrow (1L, start, int64 n)
          let out = net.Run(context, piece)
          cache.Advance(int64 n)
          start <- start + int64 n
          yield out ]
    |> fun outs -> torch.cat (List.toArray outs, 1L)

let private sameAsWhole name pieces =
    test (sprintf "%s in pieces %A equals the whole sequence" name pieces) {
        let net = checkedProgram gpt |> model name |> Language.compileSeeded float64 5L
        net.eval () |> ignore
        use _ = torch.no_grad ()
        let ids = tokens (int64 (List.sum pieces))
        let whole = net.forward ids
        expectClose whole (incremental net ids pieces) name
    }

let private description name =
    match checkedProgram gpt |> model name |> LanguageModel.describe with
    | Ok d -> d
    | Error e -> failtestf "not a language model: %s" e

let private refusal (signature: string) (body: string) =
    let m = checkedProgram (sprintf "model M : %s =\n    %s\n" signature body) |> model "M"
    match LanguageModel.describe m with
    | Ok d ->
        match d.Cache with
        | Ok() -> failtest "a cache was allowed"
        | Error why -> why
    | Error e -> failtestf "not a language model: %s" e

[<Tests>]
let tests =
    testList
        "generation cache"
        [ sameAsWhole "Gpt" [ 4; 1; 1; 1; 1; 1; 1 ]
          // Several new positions after cached ones: the explicit causal mask.
          sameAsWhole "Gpt" [ 3; 4; 1; 2 ]
          sameAsWhole "Gpt" [ 1; 1; 1; 1; 1; 1; 1; 1; 1; 1; 1; 1 ]
          sameAsWhole "Sines" [ 5; 1; 1; 3 ]
          // One attention used twice keeps two sets of keys and values.
          sameAsWhole "Twice" [ 2; 1; 1; 1; 3 ]

          test "a cached pass past the position table is an error, not a read beyond it" {
              let net = checkedProgram gpt |> model "Gpt" |> Language.compileSeeded float64 5L
              use _ = torch.no_grad ()
              let run () = incremental net (tokens 13L) [ 12; 1 ] |> ignore
              Expect.throwsC run (fun e -> Expect.stringContains e.Message "positional 12 covers 12 positions, but its input has 13" "message")
          }

          test "a causal GPT is a cacheable language model whose context is its position table" {
              let d = description "Gpt"
              Expect.equal d.Vocabulary 11 "vocabulary"
              Expect.equal d.Context (Some 12) "context"
              Expect.equal d.Cache (Ok()) "cacheable"
          }

          test "a declared input length bounds the context too" {
              let m = checkedProgram "model M : [6] int -> [6; 5] =\n    embed 5 4 >> positional 9 >> dense 5\n" |> model "M"
              match LanguageModel.describe m with
              | Ok d -> Expect.equal d.Context (Some 6) "context"
              | Error e -> failtest e
          }

          test "a recurrent layer, a full attention, a fun layer and flatten rule the cache out, naming the layer and its place" {
              let lstm = refusal "[seq] int -> [seq; 5]" "embed 5 4 >> lstm 8 >> dense 5"
              Expect.stringContains lstm "lstm 8 (layer 1) at " "lstm named"
              Expect.stringContains lstm ":2:" "its line"
              let full = refusal "[seq] int -> [seq; 5]" "embed 5 4 >> attention 2 >> dense 5"
              Expect.stringContains full "attention 2 (layer 1)" "full attention named"
              let graph = refusal "[seq] int -> [seq; 5]" "embed 5 4 >> (fun x -> x * 2.0) >> dense 5"
              Expect.stringContains graph "tensor math" "fun named"
          }

          test "a model that does not map token ids to scores per position is not a language model" {
              for signature, body in [ "[4] -> [4]", "dense 4"; "[seq] int -> [5]", "embed 5 4 >> last >> dense 5" ] do
                  let m = checkedProgram (sprintf "model M : %s =\n    %s\n" signature body) |> model "M"
                  match LanguageModel.describe m with
                  | Ok _ -> failtestf "%s was taken for a language model" signature
                  | Error e -> Expect.stringContains e "generating text needs token ids" signature
          } ]
