// Derivatives of a compiled network from F# Interactive. After `dotnet build`, run:
//     dotnet fsi examples/differentiable/differentiable.fsx
#load "../../repl/prelude.fsx"

open TorchSharp
open Functional
open Functional.Networks

type Tensor = torch.Tensor

/// A tensor's values, rounded, row by row.
let show (t: Tensor) =
    let row (r: Tensor) = r.data<float>().ToArray() |> Array.map (sprintf "%9.5f") |> String.concat " "
    match t.shape.Length with
    | 0 -> sprintf "%.5f" (t.item<float> ())
    | 1 -> "[" + row t + " ]"
    | _ -> [ for i in 0L .. t.shape[0] - 1L -> "[" + row (t[i].reshape(-1L)) + " ]" ] |> String.concat "\n    "

// A small network, compiled from source in float64 (the precision to check derivatives in).
let source = "model Bump : [2] -> [1] =\n    dense 6 >> tanh >> dense 1\n"
let network = FnnFile.FromSource(source, "bump.fnn").Compile(options = NetworkOptions(Seed = 1L, Precision = Precision.Float64))
// The network's module is the compiled model, which the parameter derivatives below walk by path.
let model = network.Module :?> Functional.Lang.Compilation.CompiledModel
model.eval () |> ignore
printfn "%s, parameters: %s" network.Name (network.Parameters |> Seq.map (fun p -> sprintf "%s [%s]" p.Path (p.Shape |> Seq.map string |> String.concat "; ")) |> String.concat ", ")

// The network as a scalar function of one point x : [2].
let f (x: Tensor) = model.forward(x.unsqueeze 0L).squeeze()
let x0 = torch.tensor([| 0.5; -1.0 |], dtype = torch.ScalarType.Float64)

// Gradient, checked against central differences.
let value, g = Differentiable.valueAndGrad f x0
printfn "\nf x0 = %s" (show value)
printfn "grad f x0 = %s" (show g)
let eps = 1e-6
let central i =
    let e = torch.zeros(2L, dtype = torch.ScalarType.Float64)
    e[int64 i] <- torch.tensor(eps, dtype = torch.ScalarType.Float64)
    ((f (x0 + e)).item<float> () - (f (x0 - e)).item<float> ()) / (2.0 * eps)
printfn "central differences = [%s ]" ([ 0; 1 ] |> List.map (central >> sprintf "%9.5f") |> String.concat " ")

// Forward mode on the batched network: how a batch's outputs move when every input moves along v.
let batch = torch.tensor([| 0.0; 0.0; 1.0; 0.0; 0.0; 1.0 |], dtype = torch.ScalarType.Float64).reshape(3L, 2L)
let direction = torch.tensor([| 1.0; 1.0; 1.0; 1.0; 1.0; 1.0 |], dtype = torch.ScalarType.Float64).reshape(3L, 2L)
let outputs, tangent = Differentiable.jvp model.forward batch direction
printfn "\noutputs on the batch = %s" (show (outputs.reshape(-1L)))
printfn "J v along (1, 1)     = %s" (show (tangent.reshape(-1L)))

// Curvature: Hessian-vector product, and the whole (2 x 2) Hessian for comparison.
let v = torch.tensor([| 1.0; 2.0 |], dtype = torch.ScalarType.Float64)
let hv = Differentiable.hvp f x0 v
let h = Differentiable.hessian f x0
printfn "\nhessian f x0 =\n    %s" (show h)
printfn "hvp f x0 (1, 2) = %s" (show hv)
printfn "hessian @ (1, 2) = %s" (show (h.matmul v))

// With respect to the parameters: a squared error on the batch.
let targets = torch.tensor([| 0.0; 1.0; 1.0 |], dtype = torch.ScalarType.Float64).reshape(3L, 1L)
let loss (y: Tensor) = let d = y - targets in (d * d).mean()
let grads = Differentiable.gradParameters model loss batch
printfn "\nloss = %s" (show (loss (model.forward batch)))
for (path, gp) in grads do
    printfn "d loss / d %-8s norm %.5f" path (gp.norm().item<float> ())
// Curvature of the loss along its own gradient: gᵀ H g.
let hg = Differentiable.hvpParameters model loss batch grads
let gHg = List.map2 (fun (_, a: Tensor) (_, b: Tensor) -> (a * b).sum().item<float> ()) grads hg |> List.sum
printfn "gᵀ H g = %.5f" gHg
printfn "parameters' .grad untouched: %b" (model.parameters () |> Seq.forall (fun p -> isNull (box p.grad)))
printfn "x0.requires_grad = %b" x0.requires_grad

network.Dispose()
