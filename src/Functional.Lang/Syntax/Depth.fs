/// A bound on how deeply a program's expressions nest, so that checking (which recurses over the
/// tree) can never exhaust its stack. Measured without recursion.
module Functional.Lang.Syntax.Depth

open Functional.Lang

/// Deeper than any program a person writes; deep enough to stay far from the checker's stack limit.
let limit = 4096

let private children (e: Expr) : Expr list =
    match e with
    | Number _
    | Bool _
    | String _
    | Var _ -> []
    | Apply(f, args, _) -> f :: (args |> List.map (function Positional a -> a | Named(_, a, _) -> a))
    | Binary(_, a, b, _)
    | Compose(a, b, _)
    | Pipe(a, b, _)
    | Pair(a, b, _) -> [ a; b ]
    | Negate(a, _)
    | Lambda(_, a, _)
    | Labeled(a, _, _) -> [ a ]
    | List(items, _) -> items
    | With(m, replacements, _) -> m :: (replacements |> List.map (fun r -> r.Value))
    | LetIn(binding, body, _) -> binding.Value :: body :: (binding.Parameters |> List.choose (fun p -> p.Default))

/// The depth of an expression tree, with an explicit stack; stops counting past the limit.
let private depth (root: Expr) =
    let stack = System.Collections.Generic.Stack<Expr * int>()
    stack.Push(root, 1)
    let mutable deepest = 0
    while stack.Count > 0 && deepest <= limit do
        let e, d = stack.Pop()
        deepest <- max deepest d
        for c in children e do
            stack.Push(c, d + 1)
    deepest

let private expressions (decl: Decl) =
    match decl with
    | Import _ -> []
    | Let b -> b.Value :: (b.Parameters |> List.choose (fun p -> p.Default))
    | Model m ->
        (m.Body :: (m.Hypers |> List.choose (fun p -> p.Default)))
        @ (m.Params |> List.collect (fun p -> p.Init :: p.Shape.Dims))
        @ m.Input.Dims
        @ m.Output.Dims
    | Train t -> t.Settings |> List.map (fun s -> s.Value)

/// A diagnostic for each declaration whose expressions nest deeper than the limit.
let tooDeep (program: Program) : Diagnostic list =
    program.Decls
    |> List.choose (fun decl ->
        expressions decl
        |> List.tryFind (fun e -> depth e > limit)
        |> Option.map (fun e ->
            Diagnostic.error (Expr.range e) (sprintf "this expression nests more than %d levels deep (a chain of thousands of steps or lets, say): split it into lets or layers" limit)))
