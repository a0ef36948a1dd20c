/// `attention heads (causal)`: multi-head self-attention over [seq; dim] with four dim -> dim projections
/// `query`, `key`, `value` and `output` (each a `weight` and a `bias`, initialised as
/// torch.nn.MultiheadAttention's: Glorot uniform, zero bias), and scaled dot-product attention.
module Functional.Lang.Layers.Attention

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Dim: int; Heads: int; Causal: bool }

let private projections = [ "query"; "key"; "value"; "output" ]

let definition: Definition<Settings> =
    { Name = "attention"
      Weights =
        fun s ->
            [ for p in projections do
                  yield WeightSpec.parameter (p + ".weight") [ s.Dim; s.Dim ]
                  yield WeightSpec.parameter (p + ".bias") [ s.Dim ] ]
      Initialise =
        fun _ d ->
            for p in projections do
                Init.linear d.Generator (d.Weight(p + ".weight")) (d.Weight(p + ".bias"))
      Compile =
        fun s b ->
            let query, key, value, output = b.Linear "query", b.Linear "key", b.Linear "value", b.Linear "output"
            let heads, headDim, dim = int64 s.Heads, int64 (s.Dim / s.Heads), int64 s.Dim
            fun context x ->
                let batch, positions = x.shape[0], x.shape[1]
                // [batch; seq; dim] -> [batch; heads; seq; headDim]
                let split (t: torch.Tensor) = t.view(batch, positions, heads, headDim).transpose (1L, 2L)
                let q, k, v = split (query context x), split (key context x), split (value context x)
                let attended =
                    match context.Cache with
                    | Some cache when s.Causal ->
                        // The new positions attend over the cached ones and each other, causally.
                        let earlier = cache.Offset
                        let keys, values = cache.Extend(k, v)
                        if earlier = 0L then
                            torch.nn.functional.scaled_dot_product_attention (q, keys, values, is_casual = true)
                        elif positions = 1L then torch.nn.functional.scaled_dot_product_attention (q, keys, values)
                        else
                            // New position i (earlier + i overall) sees keys 0 .. earlier + i.
                            use all = torch.ones (positions, earlier + positions, dtype = torch.ScalarType.Bool, device = x.device)
                            use mask = all.tril (earlier)
                            torch.nn.functional.scaled_dot_product_attention (q, keys, values, attn_mask = mask)
                    | Some _ -> invalidOp "generation cached a model with a full (not causal) attention"
                    | None -> torch.nn.functional.scaled_dot_product_attention (q, k, v, is_casual = s.Causal)
                output context (attended.transpose(1L, 2L).reshape (batch, positions, dim))
      Traits = fun s -> { Traits.none with Sequence = (if s.Causal then CausalMixing else Mixes); Projections = projections } }

let private attentionLayer range heads causal =
    let name = sprintf "attention %d" heads
    layer name range (fun input ->
        numericSequence name input
        |> Result.bind (fun (_, dim) ->
            if dim % heads = 0 then Ok(primitive definition { Dim = dim; Heads = heads; Causal = causal }, input)
            else
                Error(
                    sprintf "%s needs its input's last dimension to be divisible by the number of heads, but %d is not divisible by %d" name dim heads
                )))

let private attentionFunction (_: Syntax.Range) =
    func "attention" [ "heads" ] [ "causal", VBool false ] (fun call ->
        Checked.check {
            let! heads = positiveInt call 0 "attention's number of heads"
            let! causal = boolOption call "causal" false "attention's causal option"
            return attentionLayer call.Range heads causal
        })

let builtins: (string * (Syntax.Range -> Value)) list = [ "attention", attentionFunction ]
