/// A network's parameters and buffers, keyed by their paths (the checkpoint and PyTorch state_dict names:
/// `0.weight`, `2.0.0.1.query.weight`, `w1`, `4.running_mean`). Layers hold slots resolved when they are
/// compiled and read each slot's tensor at run time, so the store can be moved, loaded or replaced as a
/// whole while every layer follows.
namespace Functional.Lang.Compilation

open System
open System.Collections.Generic
open TorchSharp

/// What a stored tensor is.
type WeightRole =
    /// Trained: a leaf that requires grad.
    | Parameter
    /// Kept beside the parameters; persistent buffers are saved in checkpoints (batch norm's running
    /// statistics), the others are made again when the network is built (sinusoidal's table).
    | Buffer of persistent: bool

/// One tensor of a store. Moving the store replaces the tensor a slot holds, never the slot.
[<Sealed; AllowNullLiteral>]
type Slot internal (path: string, role: WeightRole, tensor: torch.Tensor) =
    let mutable tensor = tensor
    member _.Path = path
    member _.Role = role
    /// The tensor now: read it when computing, never keep it (a move replaces it).
    member _.Tensor
        with get () = tensor
        and internal set value = tensor <- value

/// What a partial load did: which paths it filled, which of the source's names it left out (mapped to
/// nothing), and which paths of the store it did not fill.
type LoadReport =
    { Loaded: string list
      Ignored: string list
      Missing: string list }

/// The parameters and buffers of one network, in registration order (parameters before buffers when
/// listed, as PyTorch lists them), plus the constants its `fun` bodies use, which move with it.
[<Sealed>]
type WeightStore(placement: Placement) =
    let slots = List<Slot>()
    let byPath = Dictionary<string, Slot>()
    let constants = List<Slot>()
    let mutable placement = placement
    let mutable disposed = false

    let own (t: torch.Tensor) = t.DetachFromDisposeScope()

    let parameter (t: torch.Tensor) (requiresGrad: bool) =
        let p = new Modules.Parameter(t, requires_grad = requiresGrad)
        p.DetachFromDisposeScope() |> ignore
        p :> torch.Tensor

    /// Where the store's tensors live and the element type of its floating-point ones.
    member _.Placement = placement

    /// Adds a tensor under `path`; the store owns it from now on (outside any dispose scope).
    member _.Add(path: string, role: WeightRole, value: torch.Tensor) : Slot =
        if byPath.ContainsKey path then invalidArg (nameof path) (sprintf "the store already holds '%s'" path)
        let tensor =
            match role with
            | Parameter -> parameter (own value) true
            | Buffer _ -> own value
        let slot = Slot(path, role, tensor)
        slots.Add slot
        byPath[path] <- slot
        slot

    /// A constant a computation needs (a number in a `fun` body): not a weight, but moved with them.
    member _.AddConstant(value: torch.Tensor) : Slot =
        let slot = Slot("", Buffer false, own value)
        constants.Add slot
        slot

    /// Every parameter and buffer, in registration order.
    member _.Slots: IReadOnlyList<Slot> = slots

    member _.Paths = [ for s in slots -> s.Path ]

    member _.TryFind(path: string) : Slot option =
        match byPath.TryGetValue path with
        | true, s -> Some s
        | false, _ -> None

    member this.Item
        with get (path: string) =
            match this.TryFind path with
            | Some s -> s
            | None -> raise (KeyNotFoundException(sprintf "the store holds no '%s'; it holds %s" path (String.Join(", ", this.Paths))))

    /// The parameters by path, in registration order.
    member _.Parameters: (string * Modules.Parameter) list =
        [ for s in slots do
              if s.Role = Parameter then yield s.Path, (s.Tensor :?> Modules.Parameter) ]

    /// The buffers by path; non-persistent ones only when asked for.
    member _.Buffers(includeNonPersistent: bool) : (string * torch.Tensor) list =
        [ for s in slots do
              match s.Role with
              | Buffer true -> yield s.Path, s.Tensor
              | Buffer false when includeNonPersistent -> yield s.Path, s.Tensor
              | _ -> () ]

    /// What a checkpoint holds: the parameters, then the persistent buffers (live tensors: do not dispose them).
    member this.StateDict() : Dictionary<string, torch.Tensor> =
        let d = Dictionary<string, torch.Tensor>()
        for (path, p) in this.Parameters do
            d[path] <- p
        for (path, b) in this.Buffers false do
            d[path] <- b
        d

    /// The parameter paths matching a glob: `*` stands for any characters (dots included), `?` for one
    /// (`*.query.weight`, `2.*`, `*.bias`).
    member this.Matching(pattern: string) : string list =
        if isNull pattern then nullArg (nameof pattern)
        [ for (path, _) in this.Parameters do
              if Functional.Lang.Glob.matches pattern path then yield path ]

    /// Copies tensors into the store in place (converted to each slot's type and device). `keyMap` gives
    /// the store path for each of the source's names, or null to leave it out (identity when null).
    /// A name mapped to a path the store lacks, or a shape that differs, is an error, and nothing is copied.
    member this.Load(source: IReadOnlyDictionary<string, torch.Tensor>, keyMap: Func<string, string>) : LoadReport =
        if isNull source then nullArg (nameof source)
        let pairs =
            [ for KeyValue(name, t) in source ->
                  let target = if isNull keyMap then name else keyMap.Invoke name
                  name, Option.ofObj target, t ]
        let problems =
            [ for (name, target, t) in pairs do
                  match target with
                  | None -> ()
                  | Some path ->
                      match byPath.TryGetValue path with
                      | false, _ -> yield sprintf "'%s' goes to '%s', which this network does not have" name path
                      | true, slot when slot.Tensor.shape <> t.shape ->
                          yield sprintf "'%s' has shape %A but '%s' has %A" name t.shape path slot.Tensor.shape
                      | true, _ -> () ]
        if not problems.IsEmpty then invalidArg (nameof source) (String.Join("; ", problems))
        let targets = pairs |> List.choose (fun (_, target, _) -> target)
        match targets |> List.countBy id |> List.tryFind (fun (_, n) -> n > 1) with
        | Some(path, _) -> invalidArg (nameof keyMap) (sprintf "two of the source's names go to '%s'" path)
        | None -> ()
        use _ = torch.no_grad ()
        for (_, target, t) in pairs do
            target |> Option.iter (fun path -> byPath[path].Tensor.copy_ t |> ignore)
        { Loaded = targets
          Ignored = [ for (name, target, _) in pairs do if target.IsNone then yield name ]
          Missing = [ for s in slots do if not (List.contains s.Path targets) then yield s.Path ] }

    /// Loads every tensor whose name is a path of the store.
    member this.Load(source: IReadOnlyDictionary<string, torch.Tensor>) = this.Load(source, null)

    /// Moves every tensor to `device`, floating-point ones to `dtype` (int64 counters keep their type).
    /// Parameters stay trainable leaves (new ones: their gradients are dropped), so whoever holds a
    /// parameter object (an optimizer) must take up the new ones (`Parameters`).
    member _.To(device: torch.Device, dtype: torch.ScalarType) =
        let floating = [ torch.ScalarType.Float16; torch.ScalarType.BFloat16; torch.ScalarType.Float32; torch.ScalarType.Float64 ]
        if not (List.contains dtype floating) then invalidArg (nameof dtype) (sprintf "a network's weights must be floating point, not %A" dtype)
        use _ = torch.no_grad ()
        let move (slot: Slot) =
            let old = slot.Tensor
            let wanted = if old.is_floating_point () then dtype else old.dtype
            if old.dtype <> wanted || old.device.ToString() <> device.ToString() then
                let moved = old.``to``(wanted, device).detach()
                slot.Tensor <-
                    match slot.Role with
                    | Parameter -> parameter moved old.requires_grad
                    | Buffer _ -> own moved
                old.Dispose()
        for s in slots do
            move s
        for c in constants do
            move c
        placement <- { Device = device; DType = dtype }

    interface IDisposable with
        member _.Dispose() =
            if not disposed then
                disposed <- true
                for s in Seq.append slots constants do
                    s.Tensor.Dispose()
