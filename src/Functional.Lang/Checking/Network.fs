/// The checked network: what the program means once names are resolved and shapes inferred.
/// Compilation turns it into one function over a weight store; tools (summary, trace) walk it by path.
namespace Functional.Lang.Checking

open Functional.Lang.Syntax
open Functional.Lang.Layers

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

/// Reductions over one axis of an example, or over all of it.
type Reduction =
    | Sum
    | Mean
    | Max
    | Min

/// A network fragment with its place in the model and its per-example shapes.
type Node =
    { /// Dotted path of the fragment (`""` for the root, `2` for the third step of a chain); parameter
      /// names are `<path>.<name>`, as in a PyTorch state_dict.
      Path: string
      /// What the source calls it: `dense 4`, `sigmoid`, `fun`, `chain`.
      Name: string
      Op: Op
      Input: Shape
      Output: Shape
      Range: Range }

and Op =
    /// A builtin layer (Layers/): its definition and what the checker found.
    | Primitive of Primitive
    /// Steps applied one after another; each step's path is its position, label or let name.
    | Chain of Node list
    /// A body written with tensor math over the input and declared parameters.
    | Graph of Term
    /// The same layer as an earlier node (a let-bound layer used again): same weights.
    | Shared of Node
    /// A model's declared parameters (`param`) around its body, which is at the same path.
    | Parameters of ParamSpec list * Node
    /// x + f x
    | Residual of Node
    /// n independent copies applied one after another; paths `<path>.0` ... `<path>.<n-1>`
    | Repeat of Node list
    /// each branch on the same input, joined on the feature (last) axis
    | Concat of Node list

/// Tensor math in a `fun x -> ...` body. Every term knows its per-example shape and whether it carries
/// the batch dimension (only terms computed from the input do).
and Term =
    { Kind: TermKind
      Shape: Shape
      Batched: bool }

and TermKind =
    | Input
    /// In a loss `fun y t -> ...`: the target (y is the Input).
    | Target
    | Param of name: string
    | Scalar of float
    | Unary of UnaryMath * Term
    | Binary of BinaryOp * Term * Term
    | Layer of Node * Term
    /// Over a per-example axis (counted from 0; negative from the end), or over the whole example.
    | Reduce of Reduction * axis: int option * Term
    /// Swaps two per-example axes.
    | Transpose of int * int * Term

type Loss =
    | MeanSquaredError
    | BinaryCrossEntropy
    | CrossEntropy
    /// Negative log-likelihood of log-probabilities against one-hot (or probability) targets.
    | NegativeLogLikelihood
    | L1
    /// `fun y t -> ...`: one number per example, averaged over the batch.
    | Custom of Term

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
      Range: Range
      /// The node paths of the parts a `with` replaced (`["head"]`), here or in the models it uses as
      /// layers; empty for a model without `with`.
      Replaced: string list }

/// `lora (rank = 8, alpha = 16, dropout = 0.05, on = [...])` in a train block: low-rank adapters on the
/// projection weights its `on` patterns match (bias is never trained by them).
type LoraSettings =
    { Rank: int
      Alpha: float
      Dropout: float
      Targets: (string * Range) list }

/// A train block's fine-tuning settings; patterns are globs over parameter paths (PathPatterns).
type FineTunePlan =
    { /// The checkpoint folder to start from, resolved to an absolute path (relative to the .fnn's folder).
      From: (string * Range) option
      /// Parameters that do not train (until UnfreezeAt).
      Freeze: (string * Range) list
      /// The epoch (1-based) from which the frozen parameters train too.
      UnfreezeAt: int option
      /// Per-pattern learning rates, in the order written.
      LearningRates: (string * float * Range) list
      Lora: LoraSettings option
      /// With LoRA: parameters that train besides the adapters (a new head).
      Trainable: (string * Range) list }

module FineTunePlan =
    let none =
        { From = None
          Freeze = []
          UnfreezeAt = None
          LearningRates = []
          Lora = None
          Trainable = [] }

/// A checked `train` block.
type TrainPlan =
    { Model: string
      Inputs: float[][]
      Targets: float[][]
      Loss: Loss
      Optimizer: OptimizerSettings
      /// The learning-rate schedule, if any.
      Schedule: ScheduleSettings option
      Epochs: int
      /// Examples per step; None leaves it to the trainer's default.
      Batch: int option
      Range: Range
      /// Fine-tuning settings (FineTunePlan.none when the block has none).
      FineTune: FineTunePlan }

type CheckedProgram =
    { File: string
      /// The file's own models.
      Models: Model list
      /// The models of the files it imports (usable, and trainable by its train blocks).
      Imported: Model list
      Trains: TrainPlan list }

module Term =
    /// The terms a term is computed from.
    let operands (t: Term) : Term list =
        match t.Kind with
        | TermKind.Layer(_, a)
        | Unary(_, a)
        | Reduce(_, _, a)
        | Transpose(_, _, a) -> [ a ]
        | TermKind.Binary(_, a, b) -> [ a; b ]
        | Input
        | Target
        | Param _
        | TermKind.Scalar _ -> []

    /// The layers a `fun` body applies directly (those inside them belong to their own nodes), in order.
    /// Each distinct sub-term once (a term used twice, `let h = dense 4 x in h + relu h`, is one term),
    /// inputs before the terms that use them.
    let distinct (t: Term) : Term list =
        let visited = System.Collections.Generic.HashSet<Term>(HashIdentity.Reference)
        let order = ResizeArray<Term>()
        let rec go (t: Term) =
            if visited.Add t then
                for c in operands t do
                    go c
                order.Add t
        go t
        List.ofSeq order

    /// The layers a `fun` body applies directly (those inside them belong to their own nodes), in order.
    let layers (t: Term) =
        distinct t |> List.choose (fun t -> match t.Kind with TermKind.Layer(node, _) -> Some node | _ -> None)

module Node =
    /// The nodes directly inside this one (a `Shared` node's original is not among them).
    let children (node: Node) =
        match node.Op with
        | Chain steps
        | Repeat steps
        | Concat steps -> steps
        | Residual inner
        | Parameters(_, inner) -> [ inner ]
        | Graph term -> Term.layers term
        | Primitive _
        | Shared _ -> []

    /// Every node below and including this one, parents first (a shared layer once, where it was first used).
    let rec walk (node: Node) : Node seq =
        seq {
            yield node
            for child in children node do
                match child.Op with
                | Shared _ -> ()
                | _ -> yield! walk child
        }

    let join prefix name =
        if prefix = "" then name elif name = "" then prefix else prefix + "." + name
