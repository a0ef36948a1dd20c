/// `sinusoidal n`: the fixed position encoding of Vaswani et al. added to [seq; dim]. Column 2i holds
/// sin(pos / 10000^(2i/dim)), column 2i+1 the cosine of the same angle (an odd last column is a sine).
/// The table is a non-persistent buffer `table`: moved with the network, never saved.
module Functional.Lang.Layers.Sinusoidal

open System
open TorchSharp
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Length: int; Dim: int }

/// The table, computed in float64 whatever the network's type and converted once.
let private sinusoids (length: int) (dim: int) =
    let position = torch.arange(int64 length, dtype = torch.ScalarType.Float64).unsqueeze 1L
    let column = torch.arange (int64 dim, dtype = torch.ScalarType.Float64)
    let pairStart = (column / 2.0).floor () * 2.0
    let angle = position * (pairStart * (-Math.Log 10000.0 / float dim)).exp ()
    let even = pairStart.eq column
    torch.where (even, angle.sin (), angle.cos ())

let definition: Definition<Settings> =
    { Name = "sinusoidal"
      Weights = fun s -> [ WeightSpec.table "table" [ s.Length; s.Dim ] ]
      Initialise =
        fun s d ->
            use _ = torch.NewDisposeScope()
            use _ = torch.no_grad ()
            (d.Weight "table").copy_ (sinusoids s.Length s.Dim) |> ignore
      Compile =
        fun s b ->
            Positional.addRows "sinusoidal" s.Length (b.Slot "table")
      Traits = fun s -> { Traits.none with Sequence = PositionTable s.Length } }

let builtins: (string * (Functional.Lang.Syntax.Range -> Value)) list =
    [ "sinusoidal", Positional.positionTable "sinusoidal" (fun length dim -> primitive definition { Length = length; Dim = dim }) ]
