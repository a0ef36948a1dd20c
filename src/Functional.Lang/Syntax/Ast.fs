/// The syntax tree of a `.fnn` file, exactly as written (no names resolved, no shapes known).
namespace Functional.Lang.Syntax

type Ident = { Name: string; Range: Range }

type BinaryOp =
    | Add
    | Subtract
    | Multiply
    | Divide
    | Power
    | MatMul

type Expr =
    /// 3, 0.5, 1e-3; IsInteger when written without '.' or exponent.
    | Number of value: float * isInteger: bool * Range
    | Bool of bool * Range
    | String of string * Range
    | Var of Ident
    /// `f a b (name = v)`: a function applied by juxtaposition to one or more arguments.
    | Apply of func: Expr * args: Arg list * Range
    | Binary of BinaryOp * Expr * Expr * Range
    | Negate of Expr * Range
    /// `f >> g`
    | Compose of Expr * Expr * Range
    /// `x |> f`
    | Pipe of Expr * Expr * Range
    /// `fun x y -> body`
    | Lambda of Ident list * body: Expr * Range
    /// `[a; b; c]`
    | List of Expr list * Range
    /// `input => target`, a training example
    | Pair of Expr * Expr * Range
    /// `let name args = value` followed, on the next line at the same column, by the body
    | LetIn of LetBinding * body: Expr * Range
    /// `e as name`: names the parameters e creates (`name.*`)
    | Labeled of Expr * Ident * Range
    /// `m with label = e` (one per line): the model m with its labelled parts replaced
    | With of Expr * Replacement list * Range

/// `head = dense 2` or `features.head = ...` after `with`: a labelled part (a dotted path of labels) and
/// what replaces it.
and Replacement = { Path: Ident list; Value: Expr; Range: Range }

and Arg =
    | Positional of Expr
    /// `(name = value)`
    | Named of Ident * Expr * Range

and LetBinding =
    { Name: Ident
      Parameters: Parameter list
      Value: Expr
      Doc: string option
      Range: Range }

/// A parameter of a function or a model hyperparameter: `x`, `(x: int)`, `(rate = 0.1)`.
and Parameter =
    { Name: Ident
      Type: Ident option
      Default: Expr option }

/// `[d1; d2] int`: dimensions per example (the batch is implicit), optionally an element type.
type ShapeSpec =
    { Dims: Expr list
      ElementType: Ident option
      Range: Range }

/// `param w : [2; 4] = xavier`
type ParamDecl =
    { Name: Ident
      Shape: ShapeSpec
      Init: Expr
      Doc: string option
      Range: Range }

/// `model Name (hyper = default, ...) : In -> Out = params, lets, body`
type ModelDecl =
    { Name: Ident
      Doc: string option
      Hypers: Parameter list
      Input: ShapeSpec
      Output: ShapeSpec
      Params: ParamDecl list
      Body: Expr
      Range: Range }

/// `name = value` inside a train block
type Setting = { Name: Ident; Value: Expr; Range: Range }

/// `train Model with` followed by indented settings
type TrainDecl =
    { Model: Ident
      Settings: Setting list
      Range: Range }

type Decl =
    | Import of path: string * Range
    | Let of LetBinding
    | Model of ModelDecl
    | Train of TrainDecl

type Program = { File: string; Decls: Decl list }

module BinaryOp =
    /// The operator as written.
    let symbol op =
        match op with
        | Add -> "+"
        | Subtract -> "-"
        | Multiply -> "*"
        | Divide -> "/"
        | Power -> "**"
        | MatMul -> "@"

module Expr =
    let range expr =
        match expr with
        | Number(_, _, r)
        | Bool(_, r)
        | String(_, r)
        | Apply(_, _, r)
        | Binary(_, _, _, r)
        | Negate(_, r)
        | Compose(_, _, r)
        | Pipe(_, _, r)
        | Lambda(_, _, r)
        | List(_, r)
        | Pair(_, _, r)
        | LetIn(_, _, r)
        | Labeled(_, _, r)
        | With(_, _, r) -> r
        | Var id -> id.Range

module Replacement =
    /// The dotted label path as written: `features.head`.
    let path (r: Replacement) = r.Path |> List.map (fun id -> id.Name) |> String.concat "."

    /// Where the path is written.
    let pathRange (r: Replacement) =
        match r.Path with
        | [] -> r.Range
        | first :: _ -> Range.union first.Range (List.last r.Path).Range
