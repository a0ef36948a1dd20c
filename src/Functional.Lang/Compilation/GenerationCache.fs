/// What generation keeps between passes: the keys and values of every causal attention for the positions
/// already seen, and how many positions those are. Each pass gives the model only the new positions; a
/// positional table adds the rows from `Offset` on, and each causal attention attends over its cached keys
/// and values followed by the new ones.
namespace Functional.Lang.Compilation

open System
open TorchSharp

/// One generation's cache. The k-th causal attention a pass runs keeps slot k (the order of a model's
/// layers is fixed), so a let-bound attention used twice keeps two slots. It owns its tensors: dispose it.
[<Sealed>]
type GenerationCache() =
    let keys = ResizeArray<torch.Tensor>()
    let values = ResizeArray<torch.Tensor>()
    let mutable next = 0
    let mutable offset = 0L

    /// The positions already cached: where the positions of this pass start.
    member _.Offset = offset

    /// The keys and values of this attention over every position so far: the cached ones followed by
    /// `key` and `value` ([batch; heads; new positions; head size]). The cache keeps them (outside any
    /// dispose scope) and frees the previous ones.
    member _.Extend(key: torch.Tensor, value: torch.Tensor) : torch.Tensor * torch.Tensor =
        let slot = next
        next <- next + 1
        let keep (store: ResizeArray<torch.Tensor>) (fresh: torch.Tensor) =
            if slot < store.Count then
                let joined = torch.cat([| store[slot]; fresh |], 2L).DetachFromDisposeScope()
                store[slot].Dispose()
                store[slot] <- joined
                joined
            elif slot = store.Count then
                let own = fresh.clone().DetachFromDisposeScope()
                store.Add own
                own
            else invalidOp "a causal attention ran out of order during generation"
        keep keys key, keep values value

    /// Ends a pass over `positions` new positions: the next pass starts after them.
    member _.Advance(positions: int64) =
        if next <> keys.Count then invalidOp "a pass during generation ran fewer causal attentions than the first"
        offset <- offset + positions
        next <- 0

    /// Forgets every position (the window moved: the next pass starts again from position 0).
    member _.Clear() =
        for t in keys do
            t.Dispose()
        for t in values do
            t.Dispose()
        keys.Clear()
        values.Clear()
        next <- 0
        offset <- 0L

    interface IDisposable with
        member this.Dispose() = this.Clear()
