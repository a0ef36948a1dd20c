module Functional.Lang.Tests.PropertyTests

open Expecto

[<Tests>]
let tests = testList "Properties" []
