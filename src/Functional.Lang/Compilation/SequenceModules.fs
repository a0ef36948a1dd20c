/// TorchSharp modules for the sequence and transformer builtins (see Checking/SequenceBuiltins.fs).
/// Every module takes batched tensors: [batch; seq; features] for sequences, [batch; seq] for token ids.
/// Parameters are looked up by name when used, never kept in fields: `module.to()` replaces them.
module Functional.Lang.Compilation.SequenceModules

open System
open TorchSharp
open TorchSharp.Modules
open Functional.Lang.Checking

type private Tensor = torch.Tensor

/// A trainable tensor that outlives any dispose scope open while the model is built.
let private parameter (value: Tensor) =
    let p = new Parameter(value, requires_grad = true)
    p.DetachFromDisposeScope() |> ignore
    p

/// x / sqrt(mean(x²) + eps) * weight over the last axis. TorchSharp 0.107 has no RMSNorm module.
/// eps is a Scalar held by the module: one made for each call could be freed while libtorch reads it
/// (dotnet/TorchSharp#1496).
type RmsNormModule(features: int, eps: float, placement: Placement) as this =
    inherit torch.nn.Module<Tensor, Tensor>("rmsNorm")
    let epsilon = eps.ToScalar()
    do this.register_parameter("weight", parameter (torch.ones(int64 features, dtype = placement.DType, device = placement.Device)))

    override this.forward(x: Tensor) =
        let scale = x.square().mean([| -1L |], keepdim = true).add(epsilon, Scalars.one ()).rsqrt()
        x * scale * this.get_parameter "weight"

    override _.Dispose(disposing: bool) =
        if disposing then epsilon.Dispose()
        base.Dispose disposing

/// Learned position embeddings added to [batch; seq; dim]; `weight` is [length; dim].
type PositionalModule(length: int, dim: int, placement: Placement) as this =
    inherit torch.nn.Module<Tensor, Tensor>("positional")
    do
        let weight = torch.empty(int64 length, int64 dim, dtype = placement.DType, device = placement.Device)
        // GPT-2's initialisation: small next to unit-variance token embeddings.
        torch.nn.init.normal_(weight, 0.0, 0.02) |> ignore
        this.register_parameter("weight", parameter weight)

    override this.forward(x: Tensor) =
        let positions = x.shape[1]
        // Checking rejects known lengths above the table; a named (`seq`) one is only known now.
        if positions > int64 length then
            raise (ArgumentException(sprintf "positional %d covers %d positions, but its input has %d" length length positions))
        x.add((this.get_parameter "weight").narrow(0L, 0L, positions), Scalars.one ())

/// The fixed encoding of Vaswani et al.: column 2i holds sin(pos / 10000^(2i/dim)), column 2i+1 the
/// cosine of the same angle (an odd last column is a sine).
let private sinusoids (length: int) (dim: int) (placement: Placement) =
    use _ = torch.NewDisposeScope()
    // Computed in float64 whatever the model's type, then converted once.
    let position = torch.arange(int64 length, dtype = torch.ScalarType.Float64).unsqueeze(1L)
    let column = torch.arange(int64 dim, dtype = torch.ScalarType.Float64)
    let pairStart = (column / 2.0).floor() * 2.0
    let angle = position * (pairStart * (-Math.Log 10000.0 / float dim)).exp()
    let even = pairStart.eq column
    torch.where(even, angle.sin(), angle.cos()).``to``(placement.DType, placement.Device).DetachFromDisposeScope()

/// Adds the sinusoidal encoding to [batch; seq; dim]. The table is computed once and held by this module,
/// not registered: it is no parameter and is not saved. TorchSharp 0.107's `to()` and Dispose skip
/// non-persistent buffers, so the module moves and frees the table itself; and it registers tensor fields
/// as (saved) buffers on its own, so the table sits in a ref cell rather than a field of its own.
type SinusoidalModule(length: int, dim: int, placement: Placement) =
    inherit torch.nn.Module<Tensor, Tensor>("sinusoidal")
    let table = ref (sinusoids length dim placement)

    member private this.Replace(moved: Tensor) =
        let old = table.Value
        table.Value <- moved.DetachFromDisposeScope()
        old.Dispose()
        this :> torch.nn.Module

    override this._to(dtype: torch.ScalarType, _nonBlocking: bool) = this.Replace(table.Value.``to`` dtype)

    override this._to(device: torch.Device, dtype: torch.ScalarType, _nonBlocking: bool) =
        this.Replace(table.Value.``to``(dtype, device))

    override this._to(deviceType: DeviceType, deviceIndex: int, _nonBlocking: bool) =
        this.Replace(table.Value.``to``(deviceType, deviceIndex))

    override _.forward(x: Tensor) =
        let positions = x.shape[1]
        if positions > int64 length then
            raise (ArgumentException(sprintf "sinusoidal %d covers %d positions, but its input has %d" length length positions))
        x.add(table.Value.narrow(0L, 0L, positions), Scalars.one ())

    override _.Dispose(disposing: bool) =
        if disposing then table.Value.Dispose()
        base.Dispose disposing

/// Multi-head self-attention over [batch; seq; dim] with four dim -> dim projections registered as
/// `query`, `key`, `value` and `output` (the names LoRA targets), and scaled dot-product attention.
type AttentionModule(spec: Attention, placement: Placement) as this =
    inherit torch.nn.Module<Tensor, Tensor>("attention")
    let projection () =
        let linear = torch.nn.Linear(int64 spec.Dim, int64 spec.Dim, hasBias = true, device = placement.Device, dtype = placement.DType)
        // As torch.nn.MultiheadAttention initialises its projections.
        torch.nn.init.xavier_uniform_ linear.weight |> ignore
        torch.nn.init.zeros_ linear.bias |> ignore
        linear
    let query, key, value, output = projection (), projection (), projection (), projection ()
    let heads = int64 spec.Heads
    let headDim = int64 (spec.Dim / spec.Heads)
    do
        this.register_module("query", query)
        this.register_module("key", key)
        this.register_module("value", value)
        this.register_module("output", output)

    override _.forward(x: Tensor) =
        let batch, positions = x.shape[0], x.shape[1]
        // [batch; seq; dim] -> [batch; heads; seq; headDim]
        let split (t: Tensor) = t.view(batch, positions, heads, headDim).transpose(1L, 2L)
        let attended =
            torch.nn.functional.scaled_dot_product_attention(
                split (query.forward x),
                split (key.forward x),
                split (value.forward x),
                is_casual = spec.Causal
            )
        output.forward (attended.transpose(1L, 2L).reshape(batch, positions, int64 spec.Dim))

/// The TorchSharp recurrent module of each cell kind, run on batch-first input for its output sequence.
type private Cell =
    | RnnCell of RNN
    | LstmCell of LSTM
    | GruCell of GRU

    member c.Module: torch.nn.Module =
        match c with
        | RnnCell m -> m
        | LstmCell m -> m
        | GruCell m -> m

    /// The output sequence; the final states are not needed and are freed at once.
    member c.Run(x: Tensor) : Tensor =
        match c with
        | RnnCell m ->
            let struct (y, h) = m.forward (x, null)
            h.Dispose()
            y
        | LstmCell m ->
            let struct (y, h, state) = m.forward (x, Nullable())
            h.Dispose()
            state.Dispose()
            y
        | GruCell m ->
            let struct (y, h) = m.forward (x, null)
            h.Dispose()
            y

/// [batch; seq; features] -> [batch; seq; hidden (x2 bidirectional)] through torch.nn.RNN/LSTM/GRU.
/// The cell's parameters are registered on this module itself, so their names are PyTorch's for
/// `self.lstm = nn.LSTM(...)`: `<path>.weight_ih_l0`, not `<path>.lstm.weight_ih_l0`.
type RecurrentModule(spec: Recurrent, placement: Placement) as this =
    inherit torch.nn.Module<Tensor, Tensor>("recurrent")
    let inputs, hidden, layers = int64 spec.Inputs, int64 spec.Hidden, int64 spec.Layers
    let device, dtype = placement.Device, placement.DType
    let cell =
        match spec.Cell with
        | Rnn -> RnnCell(torch.nn.RNN(inputs, hidden, layers, batchFirst = true, bidirectional = spec.Bidirectional, device = device, dtype = dtype))
        | Lstm -> LstmCell(torch.nn.LSTM(inputs, hidden, layers, batchFirst = true, bidirectional = spec.Bidirectional, device = device, dtype = dtype))
        | Gru -> GruCell(torch.nn.GRU(inputs, hidden, layers, batchFirst = true, bidirectional = spec.Bidirectional, device = device, dtype = dtype))
    do
        for struct (name, p) in cell.Module.named_parameters () do
            this.register_parameter(name, p)

    /// The cell is not a child, so moving this module moves the cell and takes up its new parameters;
    /// the base implementation would convert copies that the cell never sees.
    member private this.Follow() =
        for struct (name, p) in cell.Module.named_parameters () do
            this.ConditionallyRegisterParameter(name, p)
        this :> torch.nn.Module

    override this._to(dtype: torch.ScalarType, nonBlocking: bool) =
        cell.Module.``to``(dtype, nonBlocking) |> ignore
        this.Follow()

    override this._to(device: torch.Device, dtype: torch.ScalarType, nonBlocking: bool) =
        cell.Module.``to``(device, dtype, nonBlocking) |> ignore
        this.Follow()

    override this._to(deviceType: DeviceType, deviceIndex: int, nonBlocking: bool) =
        cell.Module.``to``(deviceType, deviceIndex, nonBlocking) |> ignore
        this.Follow()

    override _.train(on: bool) =
        base.train on
        cell.Module.train on

    override _.forward(x: Tensor) = cell.Run x

    override _.Dispose(disposing: bool) =
        base.Dispose disposing
        if disposing then cell.Module.Dispose()

/// [batch; seq; ...] -> [batch; ...]: the final time step.
type LastModule() =
    inherit torch.nn.Module<Tensor, Tensor>("last")
    override _.forward(x: Tensor) = x.select(1L, -1L)

/// The module of a sequence node. Only called with the ops of SequenceBuiltins.
let compile (placement: Placement) (node: Node) : torch.nn.Module<Tensor, Tensor> =
    match node.Op with
    | LayerNorm features -> torch.nn.LayerNorm(int64 features, device = placement.Device, dtype = placement.DType)
    | RmsNorm features -> new RmsNormModule(features, 1e-6, placement)
    | Embed(vocabulary, dim) -> torch.nn.Embedding(int64 vocabulary, int64 dim, device = placement.Device, dtype = placement.DType)
    | Positional(length, dim) -> new PositionalModule(length, dim, placement)
    | Sinusoidal(length, dim) -> new SinusoidalModule(length, dim, placement)
    | SelfAttention spec -> new AttentionModule(spec, placement)
    | RecurrentLayer spec -> new RecurrentModule(spec, placement)
    | Last -> new LastModule()
    | _ -> invalidArg (nameof node) (sprintf "%s is not a sequence layer" node.Name)
