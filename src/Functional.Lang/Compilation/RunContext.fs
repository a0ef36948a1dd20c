/// What every forward pass runs with: where its tensors live, its random generator, whether it trains,
/// a generation cache and who watches it. Nothing here is global: two networks on two threads share nothing.
namespace Functional.Lang.Compilation

open TorchSharp

/// Where tensors are made and of which element type.
type Placement = { Device: torch.Device; DType: torch.ScalarType }

/// Told of every layer a forward pass runs, as it finishes: its path, its name, its input and output.
type Observer = delegate of path: string * layer: string * input: torch.Tensor * output: torch.Tensor -> unit

/// One forward pass's settings.
[<NoEquality; NoComparison>]
type RunContext =
    { Placement: Placement
      /// Where random draws come from (dropout's masks): the network's or a training session's own.
      Generator: torch.Generator
      /// Training mode: dropout drops, batch norm uses and updates the batch's statistics.
      Training: bool
      /// When training, a batch norm whose parameters are frozen still uses and updates the batch's statistics
      /// (false: it normalises with its running statistics and leaves them as they are, Keras's rule).
      FrozenNormsTrain: bool
      /// Generation's keys, values and position offset (GenerationCache.fs); None for every other pass.
      Cache: GenerationCache option
      /// Watches each layer finish (Inspection.trace); None costs nothing.
      Observer: Observer option }

/// A compiled layer: its output for a batch, given the pass's context.
type Forward = RunContext -> torch.Tensor -> torch.Tensor

/// Random generators of one's own, never torch's global one.
module Randomness =
    /// A seed for a network nobody seeded: from .NET's generator, so that torch's global one is never used.
    let freshSeed () = System.Random.Shared.NextInt64()

    /// A generator on `device` started from `seed`. It draws what torch's global generator draws once
    /// seeded with the same seed: the same numbers in the same order.
    let create (device: torch.Device) (seed: int64) = new torch.Generator(uint64 seed, device)

    /// Starts `generator` again from `seed`, as seeding torch's global generator restarts that one; the
    /// object stays the same, so whoever holds it sees the new stream.
    let reseed (generator: torch.Generator) (seed: int64) =
        use fresh = new torch.Generator(uint64 seed, generator.device)
        use state = fresh.get_state ()
        generator.set_state state
