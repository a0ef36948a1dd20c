/// `dropout rate`: when training, zeroes each element with probability `rate` and scales the others by
/// 1 / (1 - rate); when not, passes its input on. The mask is drawn from the run context's generator,
/// with the draws of PyTorch's CPU dropout (a Bernoulli(1 - rate) tensor like the input).
module Functional.Lang.Layers.Dropout

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Settings = { Rate: float }

let definition: Definition<Settings> =
    { Definition.weightless "dropout" (fun s b ->
          if s.Rate = 0.0 then fun _ x -> x
          else
              let keep = 1.0 - s.Rate
              // Held for the network's life: a Scalar made per call could be freed while libtorch reads it.
              let scale = keep.ToScalar()
              b.Keep scale
              fun context x ->
                  if not context.Training then x
                  else
                      let noise = torch.empty_like(x).bernoulli_(keep, context.Generator)
                      x * noise.div_ scale) with
        Traits = fun _ -> { Traits.positionwise with Stochastic = true } }

let private dropout (_: Syntax.Range) =
    func "dropout" [ "rate" ] [] (fun call ->
        let value, at = call.Args[0]
        Value.asFloat at "dropout's rate" value
        |> Result.bind (fun rate ->
            if rate >= 0.0 && rate < 1.0 then
                let label = sprintf "dropout %g" rate
                Ok(layer label call.Range (fun input -> numeric label input |> Result.map (fun () -> primitive definition { Rate = rate }, input)))
            else Checked.fail at (sprintf "dropout's rate must be at least 0 and below 1, but it is %g" rate)))

let builtins: (string * (Syntax.Range -> Value)) list = [ "dropout", dropout ]
