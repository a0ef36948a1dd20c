/// LoRA (Hu et al. 2021, as Hugging Face PEFT implements it): beside a linear projection y = x Wᵀ + b,
/// two small trained matrices A [rank; in] and B [out; rank] add (alpha / rank) · dropout(x) Aᵀ Bᵀ. B starts
/// at zero, so an adapted network first computes what its base does; merging adds (alpha / rank) · B A to W.
module Functional.Lang.Compilation.Lora

open TorchSharp

/// What adapters a network carries: PEFT's r, lora_alpha and lora_dropout, and the projections they sit
/// beside, by path (`head` for a dense layer at `head`, `3.query` for an attention's query projection).
type Settings =
    { Rank: int
      Alpha: float
      Dropout: float
      Projections: string list }

/// PEFT's defaults: rank 8, alpha 8, no dropout.
let defaults = { Rank = 8; Alpha = 8.0; Dropout = 0.0; Projections = [] }

/// What multiplies B A: alpha / rank.
let scale (s: Settings) = s.Alpha / float s.Rank

let private join (path: string) (name: string) = if path = "" then name else path + "." + name

/// A projection's weight and bias: `weight`/`bias` under its path.
let weightOf (projection: string) = join projection "weight"
let biasOf (projection: string) = join projection "bias"

/// The adapter's matrices, named as PEFT names them under the projection's path.
let aOf (projection: string) = join projection "lora_A.weight"
let bOf (projection: string) = join projection "lora_B.weight"

/// Whether a stored tensor's path is an adapter's.
let isAdapter (path: string) = path.EndsWith "lora_A.weight" || path.EndsWith "lora_B.weight"

/// A projection's function: the plain linear map, plus its adapter when it has one. Scalars it needs are
/// held by `keep` for the network's life (a temporary one could be freed while libtorch reads it).
let projection (keep: System.IDisposable -> unit) (weight: Slot) (bias: Slot) (adapter: (Settings * Slot * Slot) option) : Forward =
    match adapter with
    | None -> fun _ x -> torch.nn.functional.linear (x, weight.Tensor, bias.Tensor)
    | Some(settings, a, b) ->
        let factor = (scale settings).ToScalar()
        keep factor
        let keepRate = 1.0 - settings.Dropout
        let dropScale = keepRate.ToScalar()
        keep dropScale
        fun context x ->
            let y = torch.nn.functional.linear (x, weight.Tensor, bias.Tensor)
            let dropped =
                if context.Training && settings.Dropout > 0.0 then
                    let noise = torch.empty_like(x).bernoulli_(keepRate, context.Generator)
                    x * noise.div_ dropScale
                else x
            let low = torch.nn.functional.linear (torch.nn.functional.linear (dropped, a.Tensor), b.Tensor)
            y.add (low, factor)
