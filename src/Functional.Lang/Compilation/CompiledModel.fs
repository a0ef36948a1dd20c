namespace Functional.Lang.Compilation

open System
open System.Collections.Generic
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open TorchSharp
open Functional.Lang.Checking

/// A compiled model: one function over a weight store, run with a context (RunContext.fs). It owns the
/// store and the random generator its weights were drawn from and its dropout draws from. It is a
/// torch.nn.Module, so that scripts and the host call forward, train(), eval(), parameters() and
/// state_dict() as on any module; its parameters and buffers are the store's, named by path (`0.weight`,
/// `w1`), and `.to(...)` moves the whole store.
type CompiledModel(model: Model, store: WeightStore, generator: torch.Generator, run: Forward, held: IDisposable list, lora: Lora.Settings option) =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>(model.Name)
    let mutable generator = generator
    // A module starts in training mode, as TorchSharp's do.
    let mutable isTraining = true
    let mutable frozenNormsTrain = false
    let nodes = Node.walk model.Body |> List.ofSeq
    let usesBatchStatistics =
        nodes |> List.exists (fun n -> match n.Op with Primitive p -> p.Traits.BatchStatistics | _ -> false)

    member _.Model = model

    /// The LoRA adapters it carries beside its projections (their matrices are in the store), if any.
    member _.Lora = lora

    /// Where the weights are now, and their element type.
    member _.Placement = store.Placement

    /// The parameters and buffers, by path.
    member _.Store = store

    /// The network's own random generator: its first weights were drawn from it, and its dropout draws
    /// from it unless a run gives another. Seed it again with Randomness.reseed.
    member _.Generator = generator

    /// Every layer's node, parents first (a shared layer once), for tools that walk the network by path.
    member _.Nodes: Node list = nodes

    /// Whether a layer normalises with the batch's statistics (batch norm), so that training needs
    /// batches of at least two examples.
    member _.UsesBatchStatistics = usesBatchStatistics

    /// The context of a pass now: the network's placement, generator and mode, no state, no observer.
    member this.Context() : RunContext =
        { Placement = store.Placement
          Generator = generator
          Training = isTraining
          FrozenNormsTrain = frozenNormsTrain
          Cache = None
          Observer = None }

    /// The context of a generation pass: inference mode (dropout off), keeping keys and values in `cache`
    /// (null: none, every pass sees the whole window).
    member this.GenerationContext(cache: GenerationCache) : RunContext =
        { this.Context() with Training = false; Cache = Option.ofObj cache }

    /// Whether, when training, a batch norm whose parameters are frozen (no gradient) still normalises with the
    /// batch's statistics and updates its running ones; false by default (it keeps its running statistics).
    member _.FrozenNormsTrain
        with get () = frozenNormsTrain
        and set value = frozenNormsTrain <- value

    /// The network's output for a batch, in the given context.
    member _.Run(context: RunContext, input: torch.Tensor) = run context input

    override this.forward(input: torch.Tensor) = run (this.Context()) input

    override _.train([<Optional; DefaultParameterValue(true)>] train: bool) =
        isTraining <- train
        base.train train

    override this.eval() = this.train false

    /// Moves the weights (and the generator, for another kind of device) to `device` and `dtype`, as a
    /// whole. The parameters are new objects afterwards: an optimizer must take them up.
    member this.To(device: torch.Device, dtype: torch.ScalarType) =
        let before = store.Placement.Device
        store.To(device, dtype)
        if before.``type`` <> device.``type`` || before.index <> device.index then
            // A generator draws on its own kind of device: continue from a seed drawn from the old one.
            use seed = torch.randint(Int64.MaxValue, [| 1L |], dtype = torch.ScalarType.Int64, generator = generator)
            let next = Randomness.create device (seed.item<int64> ())
            generator.Dispose()
            generator <- next

    override this._to(device: torch.Device, dtype: torch.ScalarType, _nonBlocking: bool) =
        this.To(device, dtype)
        this :> torch.nn.Module

    override this._to(dtype: torch.ScalarType, _nonBlocking: bool) =
        this.To(store.Placement.Device, dtype)
        this :> torch.nn.Module

    override this._to(deviceType: DeviceType, deviceIndex: int, _nonBlocking: bool) =
        this.To(torch.Device(deviceType, deviceIndex), store.Placement.DType)
        this :> torch.nn.Module

    [<return: TupleElementNames([| "name"; "parameter" |])>]
    override _.named_parameters([<Optional; DefaultParameterValue(true)>] recurse: bool) =
        ignore recurse
        store.Parameters |> Seq.map (fun (path, p) -> struct (path, p))

    override _.parameters([<Optional; DefaultParameterValue(true)>] recurse: bool) =
        ignore recurse
        store.Parameters |> Seq.map snd

    [<return: TupleElementNames([| "name"; "buffer" |])>]
    override _.named_buffers
        (
            [<Optional; DefaultParameterValue(true)>] recurse: bool,
            [<Optional; DefaultParameterValue(true)>] include_nonpersistent: bool
        ) =
        ignore recurse
        store.Buffers include_nonpersistent |> Seq.map (fun (path, b) -> struct (path, b))

    override _.buffers
        (
            [<Optional; DefaultParameterValue(true)>] recurse: bool,
            [<Optional; DefaultParameterValue(true)>] include_nonpersistent: bool
        ) =
        ignore recurse
        store.Buffers include_nonpersistent |> Seq.map snd

    /// The parameters and persistent buffers by path (live tensors: do not dispose them).
    override _.state_dict
        (
            [<Optional; DefaultParameterValue(null: Dictionary<string, torch.Tensor>)>] destination: Dictionary<string, torch.Tensor>,
            [<Optional; DefaultParameterValue(null: string)>] prefix: string
        ) =
        let d = if isNull destination then Dictionary<string, torch.Tensor>() else destination
        let prefix = if String.IsNullOrEmpty prefix then "" else prefix + "."
        for KeyValue(path, t) in store.StateDict() do
            d[prefix + path] <- t
        d

    /// Copies the tensors named as this network's weights in place; with `strict`, every name must be one
    /// of them and every weight given.
    override _.load_state_dict
        (
            source: Dictionary<string, torch.Tensor>,
            [<Optional; DefaultParameterValue(true)>] strict: bool,
            [<Optional; DefaultParameterValue(null: IList<string>)>] skip: IList<string>
        ) =
        let wanted = store.StateDict()
        let skipped = if isNull skip then Set.empty else Set.ofSeq skip
        let unexpected = [ for k in source.Keys do if not (wanted.ContainsKey k) then yield k ]
        let missing = [ for k in wanted.Keys do if not (source.ContainsKey k) && not (skipped.Contains k) then yield k ]
        if strict && (not unexpected.IsEmpty || not missing.IsEmpty) then
            invalidArg (nameof source) (sprintf "the state does not fit %s: missing %s, unexpected %s" model.Name (String.Join(", ", missing)) (String.Join(", ", unexpected)))
        let given = source |> Seq.filter (fun kv -> wanted.ContainsKey kv.Key && not (skipped.Contains kv.Key)) |> Seq.map (fun kv -> kv.Key, kv.Value) |> readOnlyDict
        store.Load(given) |> ignore
        struct (ResizeArray missing :> IList<string>, ResizeArray unexpected :> IList<string>)

    /// Zeroes the parameters' gradients (zeroed, not freed).
    override _.zero_grad([<Optional; DefaultParameterValue(true)>] set_to_none: bool) =
        ignore set_to_none
        use _ = torch.NewDisposeScope()
        for (_, p) in store.Parameters do
            match p.grad with
            | null -> ()
            | g -> g.zero_ () |> ignore

    override _.Dispose(disposing: bool) =
        if disposing then
            (store :> IDisposable).Dispose()
            generator.Dispose()
            for h in held do
                h.Dispose()
        base.Dispose disposing
