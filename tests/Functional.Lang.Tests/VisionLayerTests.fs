/// conv1d, conv2d, maxPool2d, avgPool2d, flatten, reshape, dropout, batchNorm: shapes, diagnostics,
/// forward equal to TorchSharp's modules, gradients against finite differences.
module Functional.Lang.Tests.VisionLayerTests

open Expecto

[<Tests>]
let tests = testList "Vision layers" []
