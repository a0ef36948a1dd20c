/// The contract every builtin layer fulfils, one file each in Layers/: its name, what the checker found
/// (its settings and the sizes its input implied), its parameters and buffers (names relative to the
/// layer's path, shapes, first values), the function that computes it, and the traits tools ask about.
/// The checker makes a `Primitive` of a definition and its settings; the compiler asks the primitive
/// for everything else.
namespace Functional.Lang.Layers

open System
open TorchSharp
open Functional.Lang.Compilation

/// A parameter or buffer a layer declares.
type WeightSpec =
    { /// Relative to the layer's path: `weight`, `query.bias`, `running_mean`.
      Name: string
      Shape: int list
      Role: WeightRole
      /// An int64 counter (batch norm's num_batches_tracked), whatever the network's element type.
      Integer: bool }

module WeightSpec =
    let parameter name shape = { Name = name; Shape = shape; Role = Parameter; Integer = false }
    let buffer name shape = { Name = name; Shape = shape; Role = Buffer true; Integer = false }
    let counter name = { Name = name; Shape = []; Role = Buffer true; Integer = true }
    /// Made again whenever the network is built, never saved.
    let table name shape = { Name = name; Shape = shape; Role = Buffer false; Integer = false }

/// How a layer treats the positions of a sequence (the first axis of [seq; ...]): what generation needs
/// to know to give a model only the new positions and keep the rest in a cache.
type SequenceUse =
    /// Each position's output comes from that position's input alone (dense, layerNorm, activations, embed).
    | Positionwise
    /// Causal self-attention: each position sees itself and the earlier ones, whose keys and values a
    /// generation cache keeps.
    | CausalMixing
    /// Adds a row of a table of `length` positions to each position (positional, sinusoidal): given only
    /// the new positions, it must know where they start.
    | PositionTable of length: int
    /// Anything else: convolutions, recurrences, full attention, flatten, pooling, reshapes.
    | Mixes

/// What tools ask of a layer without running it.
type Traits =
    { /// Normalises with the batch's statistics when training (batch norm): a batch of one cannot train it.
      BatchStatistics: bool
      /// How it treats a sequence's positions (what a generation cache relies on).
      Sequence: SequenceUse
      /// Its linear projections, as prefixes of their `weight` and `bias` (`""` for the layer itself,
      /// `query` for `query.weight`): where adapters such as LoRA attach.
      Projections: string list
      /// Draws random numbers when training (dropout).
      Stochastic: bool }

module Traits =
    let none = { BatchStatistics = false; Sequence = Mixes; Projections = []; Stochastic = false }
    /// A layer that computes each position on its own.
    let positionwise = { none with Sequence = Positionwise }

/// What a layer's initialisation draws with: the network's generator, and its new weights by relative
/// name (made in the network's element type, filled with zeros).
type Draws = { Generator: torch.Generator; Weight: string -> torch.Tensor }

/// What a layer is compiled against: its weights' slots by relative name (resolved now, read at run
/// time), `Linear`, the function of one of its projections (named as in `Traits.Projections`: its
/// `weight` and `bias`, plus a LoRA adapter when the network gives it one), and `Keep`, which hands the
/// network something to dispose with it (a Scalar the layer holds).
type Binding =
    { Slot: string -> Slot
      Linear: string -> Forward
      Keep: IDisposable -> unit }

/// One builtin layer. 'S is what the checker found: its settings and the sizes its input implied.
type Definition<'S> =
    { /// The builtin's name (activations share one definition, `activation`).
      Name: string
      /// Its weights, in order; a sequence, made as it is read, so that absurd sizes fail at the first
      /// weight made rather than while listing billions of them.
      Weights: 'S -> WeightSpec seq
      /// Draws its weights' first values, in the order torch's own modules drew them.
      Initialise: 'S -> Draws -> unit
      Compile: 'S -> Binding -> Forward
      Traits: 'S -> Traits }

module Definition =
    /// A layer without weights.
    let weightless name (compile: 'S -> Binding -> Forward) : Definition<'S> =
        { Name = name; Weights = (fun _ -> Seq.empty); Initialise = (fun _ _ -> ()); Compile = compile; Traits = (fun _ -> Traits.none) }

/// A builtin layer at one place in a model: its definition's functions applied to its settings.
/// Two primitives are equal when they are of one definition with equal settings.
[<CustomEquality; NoComparison>]
type Primitive =
    { Kind: string
      Settings: obj
      Weights: WeightSpec seq
      Initialise: Draws -> unit
      Compile: Binding -> Forward
      Traits: Traits }

    override p.Equals(other) =
        match other with
        | :? Primitive as q -> p.Kind = q.Kind && p.Settings.Equals q.Settings
        | _ -> false

    override p.GetHashCode() = hash p.Kind ^^^ p.Settings.GetHashCode()
    override p.ToString() = sprintf "%s %A" p.Kind p.Settings

module Primitive =
    let make (definition: Definition<'S>) (settings: 'S) : Primitive =
        { Kind = definition.Name
          Settings = box settings
          Weights = definition.Weights settings
          Initialise = definition.Initialise settings
          Compile = definition.Compile settings
          Traits = definition.Traits settings }

    /// The settings of a primitive made from `definition`, if it is one.
    let settingsOf (definition: Definition<'S>) (p: Primitive) : 'S option =
        match p.Settings with
        | :? 'S as s when p.Kind = definition.Name -> Some s
        | _ -> None

/// Initialisation as libtorch computes it (torch::nn::init), drawing from a given generator: with the
/// generator seeded as torch's global one was, the same values.
module Init =
    /// libtorch's fans: fan_in = size(1) * receptive field, fan_out = size(0) * receptive field.
    let fans (t: torch.Tensor) =
        let shape = t.shape
        if shape.Length < 2 then invalidArg "t" "fans need a tensor of at least two dimensions"
        let receptive = shape |> Array.skip 2 |> Array.fold (*) 1L
        shape[1] * receptive, shape[0] * receptive

    let uniform (g: torch.Generator) (low: float) (high: float) (t: torch.Tensor) =
        use _ = torch.no_grad ()
        t.uniform_(low, high, g) |> ignore

    let normal (g: torch.Generator) (mean: float) (std: float) (t: torch.Tensor) =
        use _ = torch.no_grad ()
        t.normal_(mean, std, g) |> ignore

    let fill (value: float) (t: torch.Tensor) =
        use _ = torch.no_grad ()
        use s = value.ToScalar()
        t.fill_ s |> ignore

    /// Draws into `t` as libtorch's own modules (torch::nn::Embedding, RNN, LSTM, GRU) do: in float32,
    /// converted afterwards, whatever the network's type; the same values as those modules gave.
    let asFloat32 (draw: torch.Tensor -> unit) (t: torch.Tensor) =
        if t.dtype = torch.ScalarType.Float32 then draw t
        else
            use single = torch.zeros (t.shape, dtype = torch.ScalarType.Float32, device = t.device)
            draw single
            use _ = torch.no_grad ()
            t.copy_ single |> ignore

    /// Glorot/Xavier uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)), computed as libtorch does.
    let xavierUniform (g: torch.Generator) (gain: float) (t: torch.Tensor) =
        let fanIn, fanOut = fans t
        let std = gain * sqrt (2.0 / float (fanIn + fanOut))
        let a = sqrt 3.0 * std
        uniform g -a a t

    /// The gain of a leaky ReLU of negative slope `a` (2 for a plain ReLU, a = 0).
    let private leakyReluGain (a: float) = sqrt (2.0 / (1.0 + a ** 2.0))

    /// He/Kaiming uniform over the fan-in: U(-b, b), b = sqrt(3) * gain / sqrt(fan_in).
    let kaimingUniform (g: torch.Generator) (a: float) (t: torch.Tensor) =
        let fanIn, _ = fans t
        let std = leakyReluGain a / sqrt (float fanIn)
        let bound = sqrt 3.0 * std
        uniform g -bound bound t

    /// He/Kaiming normal with the given fan: N(0, gain / sqrt(fan)).
    let kaimingNormal (g: torch.Generator) (fan: int64) (t: torch.Tensor) =
        let std = leakyReluGain 0.0 / sqrt (float fan)
        normal g 0.0 std t

    /// What torch.nn.Linear, Conv1d and Conv2d draw when made: kaiming_uniform_(weight, a = sqrt 5), then
    /// the bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    let torchDefault (g: torch.Generator) (weight: torch.Tensor) (bias: torch.Tensor) =
        kaimingUniform g (sqrt 5.0) weight
        let fanIn, _ = fans weight
        let bound = if fanIn > 0L then 1.0 / sqrt (float fanIn) else 0.0
        uniform g -bound bound bias

    /// Keras's dense initialisation (Glorot uniform weights, zero bias), drawn after torch.nn.Linear's own
    /// (which it replaces), as the layers that once were a torch.nn.Linear drew it.
    let linear (g: torch.Generator) (weight: torch.Tensor) (bias: torch.Tensor) =
        torchDefault g weight bias
        xavierUniform g 1.0 weight
        fill 0.0 bias
