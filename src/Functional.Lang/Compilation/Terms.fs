/// Tensor math of `fun` bodies and losses, turned into closures once so that running it interprets nothing.
namespace Functional.Lang.Compilation

open TorchSharp
open Functional.Lang.Syntax
open Functional.Lang.Checking

module Broadcast =
    /// Gives a batched tensor `rank` per-example dimensions by inserting ones after the batch dimension,
    /// so that it broadcasts against unbatched operands the way its per-example shape says.
    let toRank (rank: int) (own: int) (t: torch.Tensor) =
        if own >= rank then t
        else
            let shape = t.shape
            let dims = Array.concat [ [| shape[0] |]; Array.create (rank - own) 1L; shape[1..] ]
            t.reshape dims

/// What a term reads when it runs: the body's input and, in a loss, the target; and, when the term uses
/// a sub-term more than once, where this run keeps that sub-term's value so it is computed once.
[<Struct>]
type TermInputs =
    { Context: RunContext
      Input: torch.Tensor
      Target: torch.Tensor
      Cache: System.Collections.Generic.Dictionary<Term, torch.Tensor> }

module Terms =
    /// The run-time axis of a per-example axis: after the batch axis when the tensor has one.
    let private axis (batched: bool) (rank: int) (a: int) =
        let a = if a < 0 then a + rank else a
        if batched then int64 (a + 1) else int64 a

    /// Compiles a term. `parameter` finds the slot of a declared parameter, `layerOf` the compiled layer of
    /// a node, and `constant` makes the slot of a number (its owner moves and disposes it).
    let compile
        (parameter: string -> Slot)
        (layerOf: Node -> Forward)
        (constant: float -> Slot)
        (term: Term)
        : RunContext -> torch.Tensor -> torch.Tensor -> torch.Tensor =
        // A sub-term used by several others is compiled once, and computed once per run (cached).
        let uses = System.Collections.Generic.Dictionary<Term, int>(HashIdentity.Reference)
        for t in Term.distinct term do
            for operand in Term.operands t do
                uses[operand] <- (match uses.TryGetValue operand with | true, n -> n + 1 | _ -> 1)
        let compiled = System.Collections.Generic.Dictionary<Term, TermInputs -> torch.Tensor>(HashIdentity.Reference)
        let rec compile (t: Term) : TermInputs -> torch.Tensor =
            match compiled.TryGetValue t with
            | true, f -> f
            | false, _ ->
                let f = build t
                let f =
                    match uses.TryGetValue t, t.Kind with
                    | (true, n), (TermKind.Layer _ | Unary _ | Reduce _ | Transpose _ | TermKind.Binary _) when n > 1 ->
                        fun (i: TermInputs) ->
                            match i.Cache.TryGetValue t with
                            | true, value -> value
                            | false, _ ->
                                let value = f i
                                i.Cache[t] <- value
                                value
                    | _ -> f
                compiled[t] <- f
                f

        and build (t: Term) : TermInputs -> torch.Tensor =
            match t.Kind with
            | Input -> fun i -> i.Input
            | Target -> fun i -> i.Target
            | Param name ->
                let slot = parameter name
                fun _ -> slot.Tensor
            | TermKind.Scalar x ->
                // A constant made once; its slot follows the network when it moves.
                let slot = constant x
                fun _ -> slot.Tensor
            | Unary(op, a) ->
                let f = compile a
                match op with
                | Exp -> fun x -> (f x).exp()
                | Log -> fun x -> (f x).log()
                | Sqrt -> fun x -> (f x).sqrt()
                | Abs -> fun x -> (f x).abs()
                | Neg -> fun x -> (f x).neg()
            | TermKind.Layer(node, a) ->
                let f = compile a
                let layer = layerOf node
                fun x -> layer x.Context (f x)
            | Reduce(op, which, a) ->
                let f = compile a
                let rank = Shape.rank a.Shape
                match which with
                | Some d ->
                    let dim = axis a.Batched rank d
                    match op with
                    | Sum -> fun x -> (f x).sum(dim)
                    | Mean -> fun x -> (f x).mean([| dim |])
                    | Max -> fun x -> (f x).amax([| dim |])
                    | Min -> fun x -> (f x).amin([| dim |])
                | None ->
                    // The whole example: flatten it (after the batch axis, if any), then reduce.
                    let flat (x: torch.Tensor) = if a.Batched then x.reshape(x.shape[0], -1L) else x.reshape(-1L)
                    let dim = if a.Batched then 1L else 0L
                    match op with
                    | Sum -> fun x -> (flat (f x)).sum(dim)
                    | Mean -> fun x -> (flat (f x)).mean([| dim |])
                    | Max -> fun x -> (flat (f x)).amax([| dim |])
                    | Min -> fun x -> (flat (f x)).amin([| dim |])
            | Transpose(d0, d1, a) ->
                let f = compile a
                let rank = Shape.rank a.Shape
                let x0, x1 = axis a.Batched rank d0, axis a.Batched rank d1
                fun x -> (f x).transpose(x0, x1)
            | TermKind.Binary(MatMul, a, b) -> matmul a b
            | TermKind.Binary(op, a, b) ->
                let rank = Shape.rank t.Shape
                let align (operand: Term) =
                    let f = compile operand
                    if operand.Batched then fun x -> Broadcast.toRank rank (Shape.rank operand.Shape) (f x) else f
                let fa, fb = align a, align b
                match op with
                // add's alpha is passed, held: TorchSharp's `a + b` makes a temporary one (Scalars.fs).
                | Add -> fun x -> (fa x).add(fb x, Scalars.one ())
                | Subtract -> fun x -> fa x - fb x
                | Multiply -> fun x -> fa x * fb x
                | Divide -> fun x -> fa x / fb x
                | _ -> fun x -> (fa x).pow(fb x)

        /// torch.matmul on per-example shapes: vectors become matrices, and a batched side gets the other
        /// side's leading dimensions so that the batch never meets them.
        and matmul (a: Term) (b: Term) : TermInputs -> torch.Tensor =
            let ra, rb = Shape.rank a.Shape, Shape.rank b.Shape
            let ra', rb' = max ra 2, max rb 2
            let rank = max ra' rb'
            let prepare (operand: Term) (own: int) (asMatrix: torch.Tensor -> torch.Tensor) =
                let f = compile operand
                if operand.Batched then fun x -> Broadcast.toRank rank own (asMatrix (f x))
                else fun x -> asMatrix (f x)
            let fa = prepare a ra' (if ra = 1 then (fun t -> t.unsqueeze(-2L)) else id)
            let fb = prepare b rb' (if rb = 1 then (fun t -> t.unsqueeze(-1L)) else id)
            let product x = torch.matmul (fa x, fb x)
            match ra, rb with
            | 1, 1 -> fun x -> (product x).squeeze(-1L).squeeze(-1L)
            | 1, _ -> fun x -> (product x).squeeze(-2L)
            | _, 1 -> fun x -> (product x).squeeze(-1L)
            | _ -> product

        let run = compile term
        let shares = uses.Values |> Seq.exists (fun n -> n > 1)
        // Each run gets its own cache, only when some sub-term is shared.
        fun context input target ->
            run
                { Context = context
                  Input = input
                  Target = target
                  Cache = if shares then System.Collections.Generic.Dictionary(HashIdentity.Reference) else null }
