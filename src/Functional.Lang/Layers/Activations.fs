/// The activations, elementwise or over the last axis: sigmoid, tanh, relu, leakyRelu (slope), elu
/// (alpha), gelu, silu, softmax, logSoftmax, identity. No weights; one definition for all of them.
module Functional.Lang.Layers.Activations

open TorchSharp
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Checking.LayerBuilders

type Activation =
    | Sigmoid
    | Tanh
    | Relu
    | LeakyRelu of slope: float
    | Elu of alpha: float
    | Gelu
    | Silu
    | Softmax
    | LogSoftmax
    | Identity

/// A Scalar the network holds for as long as it lives: one made per call could be freed while libtorch
/// reads it (dotnet/TorchSharp#1496).
let private held (b: Binding) (value: float) =
    let s = value.ToScalar()
    b.Keep s
    s

let definition: Definition<Activation> =
    { Definition.weightless "activation" (fun act b ->
          match act with
          | Sigmoid -> fun _ x -> x.sigmoid ()
          | Tanh -> fun _ x -> x.tanh ()
          | Relu -> fun _ x -> x.relu ()
          | LeakyRelu slope ->
              let s = held b slope
              fun _ x -> x.leaky_relu s
          | Elu alpha ->
              let a, one = held b alpha, held b 1.0
              fun _ x -> x.elu (a, one, one)
          | Gelu -> fun _ x -> x.gelu ()
          | Silu -> fun _ x -> torch.nn.functional.silu x
          | Softmax -> fun _ x -> x.softmax -1L
          | LogSoftmax -> fun _ x -> x.log_softmax -1L
          | Identity -> fun _ x -> x) with
        // Elementwise, and softmax over the last (feature) axis: each position on its own.
        Traits = fun _ -> Traits.positionwise }

let private activation name act range =
    layer name range (fun input -> numeric name input |> Result.map (fun () -> primitive definition act, input))

/// An activation with one numeric option (`leakyRelu (slope = 0.1)`): a layer when used bare.
let private parameterised name optionName (defaultValue: float) (make: float -> Activation) (_: Syntax.Range) =
    func name [] [ optionName, VFloat defaultValue ] (fun call ->
        let v, at = optionOr optionName (VFloat defaultValue) call
        Value.asFloat at (sprintf "%s's %s" name optionName) v
        |> Result.map (fun x -> activation name (make x) call.Range))

/// Whether a primitive is an activation (the only layers a loss may use).
let isActivation (p: Primitive) = (Primitive.settingsOf definition p).IsSome

let builtins: (string * (Syntax.Range -> Value)) list =
    [ "sigmoid", Sigmoid
      "tanh", Tanh
      "relu", Relu
      "gelu", Gelu
      "silu", Silu
      "softmax", Softmax
      "logSoftmax", LogSoftmax
      "identity", Identity ]
    |> List.map (fun (name, act) -> name, (fun range -> activation name act range))
    |> List.append
        [ "leakyRelu", parameterised "leakyRelu" "slope" 0.01 LeakyRelu
          "elu", parameterised "elu" "alpha" 1.0 Elu ]
