/// Derivatives of functions of tensors and of compiled models, for scripts and the REPL.
module Functional.Differentiable
