/// What expressions evaluate to while a program is checked.
namespace Functional.Lang.Checking

open Functional.Lang
open Functional.Lang.Syntax

type Value =
    | VInt of int
    | VFloat of float
    | VBool of bool
    | VString of string
    | VList of Value list
    | VPair of Value * Value
    /// A network fragment, waiting for its input shape.
    | VLayer of Layer
    /// A tensor inside a `fun` body.
    | VTensor of Term
    | VFunction of Function
    | VInit of Init
    | VLoss of Loss
    | VOptimizer of OptimizerSettings
    | VSchedule of ScheduleSettings
    /// `lora (rank = 8, on = [...])` in a train block.
    | VLora of LoraSettings
    /// Stands in for a value whose definition had an error (already reported): no cascading errors.
    | VError

/// A layer builds its node once it knows its path and its input's shape.
and Layer =
    { Name: string
      Range: Range
      /// Set by `as name` or a `let`: the path segment used instead of the layer's position.
      Label: string option
      /// Set for a let-bound layer: every use is the same layer, with one set of weights.
      Share: ShareKey option
      /// Set when the layer is a declared model (used as a layer): its name, for `with`.
      Model: string option
      /// Makes the layer's node at the context's path for an input of the given shape.
      Build: BuildContext -> Shape -> Checked<Node> }

/// Where a layer is being built: its path, and the let-bound layers this model has built so far.
and BuildContext =
    { Path: string
      Built: System.Collections.Generic.Dictionary<ShareKey, Node>
      /// Layers built so far in this model, against BuildContext.limit.
      Count: int ref
      /// The parts a `with` replaces, by node path: what replaces each, and the key its uses share.
      Replacements: Map<string, Layer * ShareKey>
      /// The paths of the labelled parts built so far (for `with`'s "did you mean").
      Labelled: System.Collections.Generic.List<string>
      /// The paths of the parts replaced so far in this model.
      Replaced: System.Collections.Generic.List<string> }

/// The identity of one let-bound layer (compared by reference).
and [<AllowNullLiteral>] ShareKey(name: string) =
    member _.Name = name

/// Builtins and user functions: positional parameters, then named options with defaults.
and Function =
    { Name: string
      Positional: string list
      Options: (string * Value) list
      Invoke: Call -> Checked<Value> }

and Call =
    { Args: (Value * Range) list
      Named: Map<string, Value * Range>
      Range: Range
      /// The `fun` body being built when the call happens: layers applied there are numbered in it.
      Scope: GraphScope option }

/// Numbers the layers applied inside one `fun` body: their paths are `<body's path>.<n>`.
and GraphScope = { Context: BuildContext; Next: int ref }

module Value =
    let describe value =
        match value with
        | VInt n -> sprintf "the integer %d" n
        | VFloat f -> sprintf "the number %g" f
        | VBool b -> sprintf "%b" b
        | VString s -> sprintf "the string \"%s\"" s
        | VList _ -> "a list"
        | VPair _ -> "an example (input => target)"
        | VLayer l -> sprintf "the layer %s" l.Name
        | VTensor t -> sprintf "a tensor of shape %O" t.Shape
        | VFunction f -> sprintf "the function %s" f.Name
        | VInit _ -> "an initialiser"
        | VLoss _ -> "a loss"
        | VOptimizer o -> sprintf "the optimizer %s" (TrainSettings.optimizerName o)
        | VSchedule s -> sprintf "the schedule %s" (TrainSettings.scheduleName s)
        | VLora _ -> "the LoRA settings lora (...)"
        | VError -> "an erroneous value"

    let asInt range what value : Checked<int> =
        match value with
        | VInt n -> Ok n
        | VError -> Error []
        | v -> Checked.fail range (sprintf "%s must be an integer, but it is %s" what (describe v))

    let asFloat range what value : Checked<float> =
        match value with
        | VInt n -> Ok(float n)
        | VFloat f -> Ok f
        | VError -> Error []
        | v -> Checked.fail range (sprintf "%s must be a number, but it is %s" what (describe v))

    let asBool range what value : Checked<bool> =
        match value with
        | VBool b -> Ok b
        | VError -> Error []
        | v -> Checked.fail range (sprintf "%s must be true or false, but it is %s" what (describe v))

module BuildContext =
    /// More layers than any model a person writes (GPT-2 XL has a few thousand); a bound on the work
    /// a program like `repeat 1000 (repeat 1000 (repeat 1000 relu))` asks for.
    let limit = 100_000

    let root () =
        { Path = ""
          Built = System.Collections.Generic.Dictionary()
          Count = ref 0
          Replacements = Map.empty
          Labelled = System.Collections.Generic.List()
          Replaced = System.Collections.Generic.List() }
