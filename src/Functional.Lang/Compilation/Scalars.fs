/// Scalars that libtorch reads during an operation, held for the life of the process. TorchSharp's overloads
/// without an explicit Scalar (`a + b` is `a.add(b, 1)`, `t.add_(s)` is `t.add_(s, 1)`) make a temporary
/// one that nothing keeps alive while libtorch reads it (dotnet/TorchSharp#1496): a garbage collection at that
/// moment frees it, and the operation fails with "Expected false to be true ... toFloat" or reads garbage.
/// Code on the training path passes these (or Scalars it holds itself) instead.
module Functional.Lang.Compilation.Scalars

open TorchSharp

// Made on first use, when the engine is loaded; never freed (one small native object).
let private held = lazy ((1L).ToScalar())

/// 1 (an integer, as TorchSharp's own default), for the alpha of add and sub.
let one () : Scalar = held.Value
