/// The checked network: what the program means once names are resolved and shapes inferred.
/// Compilation turns it into TorchSharp modules; tools (summary, trace) walk it by path.
namespace Functional.Lang.Checking

open Functional.Lang.Syntax

type Activation =
    | Sigmoid
    | Tanh
    | Relu
    | Gelu
    | Silu
    | Softmax
    | LogSoftmax
    | Identity

/// How a parameter's first values are drawn.
type Init =
    | Zeros
    | Ones
    | Constant of float
    | Normal of std: float
    | Uniform of low: float * high: float
    | Xavier
    | He

/// A parameter tensor declared with `param` (no batch dimension).
type ParamSpec =
    { Name: string
      Shape: int list
      Init: Init
      Range: Range }

type UnaryMath =
    | Exp
    | Log
    | Sqrt
    | Abs
    | Neg

/// A network fragment with its place in the model and its per-example shapes.
type Node =
    { /// Dotted path of the fragment (`""` for the root, `2` for the third step of a chain); parameter
      /// names are `<path>.<name>`, as in a PyTorch state_dict.
      Path: string
      Op: Op
      Input: Shape
      Output: Shape
      Range: Range }

and Op =
    | Dense of inputs: int * outputs: int
    | Activate of Activation
    /// Steps applied one after another; each step's path is its position.
    | Chain of Node list
    /// A body written with tensor math over the input and declared parameters.
    | Graph of Term

/// Tensor math in a `fun x -> ...` body. Every term knows its per-example shape and whether it carries
/// the batch dimension (only terms computed from the input do).
and Term =
    { Kind: TermKind
      Shape: Shape
      Batched: bool }

and TermKind =
    | Input
    | Param of name: string
    | Scalar of float
    | Unary of UnaryMath * Term
    | Binary of BinaryOp * Term * Term
    | Layer of Node * Term

type Loss =
    | MeanSquaredError
    | BinaryCrossEntropy
    | CrossEntropy
    | L1

type Optimizer =
    { Name: string
      LearningRate: float
      Momentum: float }

/// A checked `model` declaration.
type Model =
    { Name: string
      Doc: string option
      Hyperparameters: (string * string) list
      Input: Shape
      Output: Shape
      Params: ParamSpec list
      /// The body; its input and output are the model's.
      Body: Node
      Range: Range }

/// A checked `train` block.
type TrainPlan =
    { Model: string
      Inputs: float[][]
      Targets: float[][]
      Loss: Loss
      Optimizer: Optimizer
      Epochs: int
      /// Examples per step; None leaves it to the trainer's default.
      Batch: int option
      Range: Range }

type CheckedProgram =
    { File: string
      Models: Model list
      Trains: TrainPlan list }

module Node =
    /// Every node below and including this one, parents first.
    let rec walk (node: Node) =
        seq {
            yield node
            match node.Op with
            | Chain steps -> for s in steps do yield! walk s
            | Graph term ->
                let rec terms t =
                    seq {
                        match t.Kind with
                        | Layer(n, arg) ->
                            yield! terms arg
                            yield! walk n
                        | Unary(_, a) -> yield! terms a
                        | Binary(_, a, b) ->
                            yield! terms a
                            yield! terms b
                        | Input
                        | Param _
                        | Scalar _ -> ()
                    }
                yield! terms term
            | Dense _
            | Activate _ -> ()
        }

    let join prefix name =
        if prefix = "" then name elif name = "" then prefix else prefix + "." + name
