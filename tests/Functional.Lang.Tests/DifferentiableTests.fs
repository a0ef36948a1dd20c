module Functional.Lang.Tests.DifferentiableTests

open Expecto

[<Tests>]
let tests = testList "Differentiable" []
