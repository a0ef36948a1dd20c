/// Every builtin layer, in one list: the checker's table of names reads it. A new layer is one file in
/// Layers/ and one line here (F# compiles files in the order the project lists them).
module Functional.Lang.Layers.Registry

let builtins: (string * (Functional.Lang.Syntax.Range -> Functional.Lang.Checking.Value)) list =
    List.concat
        [ Dense.builtins
          Activations.builtins
          Conv1d.builtins
          Conv2d.builtins
          Pooling.builtins
          Flatten.builtins
          Reshape.builtins
          Dropout.builtins
          BatchNorm.builtins
          LayerNorm.builtins
          RmsNorm.builtins
          Embed.builtins
          Positional.builtins
          Sinusoidal.builtins
          Attention.builtins
          Recurrent.builtins
          Last.builtins ]
