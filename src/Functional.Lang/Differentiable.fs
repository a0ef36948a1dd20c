/// Derivatives of functions of tensors and of compiled models, for scripts and the REPL.
///
/// The first-order functions take any `Tensor -> Tensor` function: a compiled model's `forward`, a loss
/// around it, or plain tensor arithmetic. Everything is reverse mode (libtorch's autograd); forward-mode
/// products (`jvp`) use the double-vjp trick.
///
/// Contract:
/// - The caller's tensors are never changed: derivatives are taken at private copies
///   (`x.detach().requires_grad_(true)`), so `x.requires_grad` stays what it was.
/// - A model's `.grad` fields are never written (gradients with respect to parameters come from
///   `torch.autograd.grad`, which returns them instead of accumulating them).
/// - Results are detached (no graph) and belong to the caller's dispose scope, if one is open; every
///   intermediate is disposed before the function returns.
/// - Gradient recording is switched on inside each call, so they work under `torch.no_grad()`; they refuse
///   to run inside `torch.inference_mode()`, which records no graph at all.
/// - Call them from one thread at a time (the one that owns the tensors): TorchSharp's dispose scopes and
///   grad mode are per thread.
/// - A model in training mode (dropout) is differentiated as it runs, randomness included: call
///   `model.eval()` first for a deterministic function.
///
/// TorchSharp 0.107 lets a libtorch error inside `torch.autograd.grad` end the process instead of raising
/// an exception (its native `THSAutograd_grad` has no error guard, unlike `backward`). So the functions
/// check every refusal they can foresee (shapes, scalar outputs, outputs with no graph, unused inputs)
/// before calling it, and use `backward` into their private copies, which does report errors, wherever a
/// graph is not needed afterwards (`grad`, `valueAndGrad`, `vjp`, `jacobian`, and the second pass of `hvp`,
/// `hessian` and `jvp`). What cannot be checked beforehand (a function that changes in place a tensor
/// autograd saved, an operation without a second derivative) can still end the process in `jvp`, `hvp`,
/// `hessian`, `gradParameters` and `hvpParameters`.
module Functional.Differentiable

open System
open TorchSharp
open Functional.Lang.Compilation

// ---------------------------------------------------------------------------------------------------
// Plumbing

let private shapeText (shape: int64[]) = "[" + (shape |> Array.map string |> String.concat "; ") + "]"

/// Runs `body` with gradients recorded, in a dispose scope of its own: whatever `body` creates is
/// disposed on return except what it moved out with `keep`.
let private differentiating (body: unit -> 'T) : 'T =
    if torch.is_inference_mode_enabled () then
        invalidOp "cannot differentiate inside torch.inference_mode(), which records no graph: leave it first"
    use _ = torch.NewDisposeScope()
    use _ = torch.enable_grad ()
    body ()

/// A result for the caller: no graph, owned by the caller's dispose scope.
let private keep (t: torch.Tensor) = t.detach().MoveToOuterDisposeScope()

/// A private leaf to differentiate at, sharing `x`'s values but not its autograd flags.
let private leafAt (name: string) (x: torch.Tensor) =
    if isNull (box x) then nullArg name
    if not (x.is_floating_point ()) then
        invalidArg name (sprintf "can only differentiate at a floating-point tensor, but %s has element type %A" name x.dtype)
    x.detach().requires_grad_(true)

/// `t` converted to `like`'s element type and device, after checking it has `like`'s shape.
let private conform (name: string) (purpose: string) (like: torch.Tensor) (t: torch.Tensor) =
    if isNull (box t) then nullArg name
    if t.shape <> like.shape then
        invalidArg name (sprintf "%s must have the shape of %s, %s, but has shape %s" name purpose (shapeText like.shape) (shapeText t.shape))
    t.``to``(like.dtype, like.device)

let private requireScalar (what: string) (argument: string) (y: torch.Tensor) =
    if isNull (box y) then invalidArg argument (sprintf "%s: %s returned null" what argument)
    if y.numel () <> 1L then
        invalidArg argument (sprintf "%s needs a scalar-valued function, but %s returned a tensor of shape %s; use vjp or jacobian for a vector-valued one" what argument (shapeText y.shape))

let private requireOutput (argument: string) (y: torch.Tensor) =
    if isNull (box y) then invalidArg argument (sprintf "%s returned null" argument)

/// Σ gradOutput · ∂output/∂leaf, by `backward` restricted to `leaf` (a private copy, whose `.grad` is read
/// and cleared again). `backward` turns libtorch's errors into exceptions; it builds no graph here.
let private backwardInto (output: torch.Tensor) (gradOutput: torch.Tensor option) (leaf: torch.Tensor) (retain: bool) =
    if not output.requires_grad then
        torch.zeros_like leaf // the output does not depend on anything differentiable
    else
        let gradTensors = match gradOutput with Some g -> [| g |] | None -> null
        torch.autograd.backward([| output |], gradTensors, retain_graph = Nullable retain, inputs = [| leaf |])
        let g = leaf.grad
        leaf.grad <- null
        if isNull (box g) then torch.zeros_like leaf else g // the output does not depend on the leaf

/// Σ over (output, gradOutput) of gradOutput · ∂output/∂input for each input, by `torch.autograd.grad`
/// (which never touches `.grad`). With `createGraph` the results carry a graph for a second derivative
/// (and the first graph is kept, since that second pass runs through it too). Outputs without a graph
/// contribute nothing; inputs the outputs do not depend on get zeros. Inputs must require grad.
let private gradOf (outputs: (torch.Tensor * torch.Tensor) list) (inputs: torch.Tensor list) (createGraph: bool) =
    let live = outputs |> List.filter (fun (o, _) -> o.requires_grad)
    if live.IsEmpty || inputs.IsEmpty then
        inputs |> List.map torch.zeros_like
    else
        for (o, g) in live do
            if o.shape <> g.shape || o.dtype <> g.dtype then
                invalidOp (sprintf "internal: gradient of shape %s %A for an output of shape %s %A" (shapeText g.shape) g.dtype (shapeText o.shape) o.dtype)
        for i in inputs do
            if not i.requires_grad then invalidOp "internal: differentiating with respect to a tensor that does not require grad"
        let results =
            torch.autograd.grad(
                live |> List.map fst |> Array.ofList,
                inputs |> Array.ofList,
                live |> List.map snd |> Array.ofList,
                retain_graph = createGraph,
                create_graph = createGraph,
                allow_unused = true)
        // An unused input comes back as a tensor with an empty handle.
        List.map2 (fun (r: torch.Tensor) (i: torch.Tensor) -> if r.IsInvalid then torch.zeros_like i else r) (List.ofSeq results) inputs

/// The gradient of a scalar output at a leaf, with a graph for differentiating it again.
let private gradWithGraph (y: torch.Tensor) (leaf: torch.Tensor) =
    List.head (gradOf [ y, torch.ones_like y ] [ leaf ] true)

// ---------------------------------------------------------------------------------------------------
// Functions of one tensor

/// The value f x and the gradient of the scalar-valued f at x (same shape as x).
/// Raises ArgumentException if f x has more than one element.
let valueAndGrad (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) : torch.Tensor * torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let y = f xd
        requireScalar "grad" "f" y
        let g = backwardInto y None xd false
        keep y, keep g)

/// The gradient of the scalar-valued f at x (same shape as x).
/// Raises ArgumentException if f x has more than one element.
let grad (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) : torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let y = f xd
        requireScalar "grad" "f" y
        keep (backwardInto y None xd false))

/// The value f x and the vector-Jacobian product uᵀJ (shape of x), where J is f's Jacobian at x and u has
/// the shape of f x.
let vjp (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) (u: torch.Tensor) : torch.Tensor * torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let y = f xd
        requireOutput "f" y
        let u = conform "u" "f x" y u
        let g = backwardInto y (Some u) xd false
        keep y, keep g)

/// The value f x and the Jacobian-vector product J v (shape of f x), where J is f's Jacobian at x and v has
/// the shape of x. Reverse mode twice: J v = ∂/∂u [(Jᵀu) · v], for any u.
let jvp (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) (v: torch.Tensor) : torch.Tensor * torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let v = conform "v" "x" xd v
        let y = f xd
        requireOutput "f" y
        let jv =
            if not y.requires_grad then
                torch.zeros_like y
            else
                let u = torch.zeros_like(y).requires_grad_(true)
                let jtu = List.head (gradOf [ y, u ] [ xd ] true) // Jᵀu, linear in u
                backwardInto jtu (Some v) u false
        keep y, keep jv)

/// The Hessian-vector product H v of the scalar-valued f at x (v and the result have the shape of x).
let hvp (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) (v: torch.Tensor) : torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let v = conform "v" "x" xd v
        let y = f xd
        requireScalar "hvp" "f" y
        let g = gradWithGraph y xd
        keep (backwardInto g (Some v) xd false))

/// The Jacobian of f at x, of shape (shape of f x) @ (shape of x): element [i..., j...] is ∂(f x)[i...]/∂x[j...].
/// One reverse pass per element of f x: meant for small functions, in the REPL.
let jacobian (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) : torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let y = f xd
        requireOutput "f" y
        let shape = Array.append y.shape xd.shape
        let m = y.numel ()
        if m = 0L || not y.requires_grad then
            keep (torch.zeros(shape, dtype = xd.dtype, device = xd.device))
        else
            let basis = torch.eye(m, dtype = y.dtype, device = y.device)
            let rows = [ for i in 0L .. m - 1L -> backwardInto y (Some (basis[i].reshape(y.shape))) xd (i < m - 1L) ]
            keep (torch.stack(rows).reshape(shape)))

/// The Hessian of the scalar-valued f at x, of shape (shape of x) @ (shape of x).
/// One Hessian-vector product per element of x: meant for small inputs, in the REPL.
let hessian (f: torch.Tensor -> torch.Tensor) (x: torch.Tensor) : torch.Tensor =
    differentiating (fun () ->
        let xd = leafAt "x" x
        let y = f xd
        requireScalar "hessian" "f" y
        let shape = Array.append xd.shape xd.shape
        let n = xd.numel ()
        if n = 0L then
            keep (torch.zeros(shape, dtype = xd.dtype, device = xd.device))
        else
            let g = gradWithGraph y xd
            let basis = torch.eye(n, dtype = xd.dtype, device = xd.device)
            let rows = [ for i in 0L .. n - 1L -> backwardInto g (Some (basis[i].reshape(xd.shape))) xd (i < n - 1L) ]
            keep (torch.stack(rows).reshape(shape)))

// ---------------------------------------------------------------------------------------------------
// With respect to a model's parameters

/// The parameters that require grad, by path, in registration order.
let private trainable (model: CompiledModel) =
    [ for struct (path, p) in model.named_parameters () do
          if p.requires_grad then yield path, (p :> torch.Tensor) ]

let private lossAt (model: CompiledModel) (loss: torch.Tensor -> torch.Tensor) (input: torch.Tensor) (what: string) =
    let l = loss (model.forward input)
    requireScalar what "loss" l
    l

/// The gradient of the scalar `loss (model.forward input)` with respect to each trainable parameter, by
/// path (as in `named_parameters()`). The parameters' `.grad` fields are not touched.
let gradParameters (model: CompiledModel) (loss: torch.Tensor -> torch.Tensor) (input: torch.Tensor) : (string * torch.Tensor) list =
    if isNull (box model) then nullArg "model"
    differentiating (fun () ->
        let ps = trainable model
        let l = lossAt model loss input "gradParameters"
        let gs = gradOf [ l, torch.ones_like l ] (List.map snd ps) false
        List.map2 (fun (path, _) g -> path, keep g) ps gs)

/// The Hessian-vector product H v of the scalar `loss (model.forward input)` with respect to the trainable
/// parameters: `v` gives one tensor per parameter path (every trainable path once, each of its
/// parameter's shape), and so does the result. The parameters' `.grad` fields are not touched.
let hvpParameters (model: CompiledModel) (loss: torch.Tensor -> torch.Tensor) (input: torch.Tensor) (v: (string * torch.Tensor) list) : (string * torch.Tensor) list =
    if isNull (box model) then nullArg "model"
    let ps = trainable model
    let paths = ps |> List.map fst
    let duplicates = v |> List.countBy fst |> List.filter (fun (_, n) -> n > 1) |> List.map fst
    let unknown = v |> List.map fst |> List.filter (fun p -> not (List.contains p paths)) |> List.distinct
    let missing = paths |> List.filter (fun p -> not (List.exists (fun (q, _) -> q = p) v))
    let listed (names: string list) = String.Join(", ", names)
    if not duplicates.IsEmpty then invalidArg "v" (sprintf "v names %s more than once" (listed duplicates))
    if not unknown.IsEmpty then
        invalidArg "v" (sprintf "v names %s, which %s no trainable parameter of %s; its trainable parameters are %s"
                            (listed unknown) (if unknown.Length = 1 then "is" else "are") model.Model.Name (listed paths))
    if not missing.IsEmpty then invalidArg "v" (sprintf "v has no tensor for %s (give zeros to leave a parameter out)" (listed missing))
    differentiating (fun () ->
        let vs = ps |> List.map (fun (path, p) -> conform "v" (sprintf "parameter %s" path) p (v |> List.find (fun (q, _) -> q = path) |> snd))
        let l = lossAt model loss input "hvpParameters"
        let gs = gradOf [ l, torch.ones_like l ] (List.map snd ps) true
        let hv = gradOf (List.zip gs vs) (List.map snd ps) false
        List.map2 (fun path h -> path, keep h) paths hv)
