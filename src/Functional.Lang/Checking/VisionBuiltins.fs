/// Builtins for images and shapes: conv1d, conv2d, maxPool2d, avgPool2d, flatten, reshape, dropout,
/// batchNorm. Each is made at its use site (its Range is where it is written).
module Functional.Lang.Checking.VisionBuiltins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

let table: (string * (Range -> Value)) list = []
