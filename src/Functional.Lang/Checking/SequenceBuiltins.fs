/// Builtins for sequences and transformers: embed, positional, sinusoidal, attention, rnn, lstm, gru,
/// last, layerNorm, rmsNorm. Each is made at its use site (its Range is where it is written).
module Functional.Lang.Checking.SequenceBuiltins

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.LayerBuilders

let table: (string * (Range -> Value)) list = []
