/// Tracing a compiled network: each layer's input, output and output gradient, by path.
module Functional.Lang.Tests.InspectionTests

open Expecto
open TorchSharp
open Functional.Lang.Tests.LayerTesting

[<Tests>]
let tests =
    testSequenced
    <| testList "Inspection" [
        test "a trace lists every layer with its input and output, in order" {
            use net = compileBody "[2] -> [1]" "dense 4 >> sigmoid >> dense 1 >> sigmoid"
            use x = randomInput [ 3L; 2L ]
            let trace = Functional.Inspection.trace net x None
            Expect.equal (trace |> List.map (fun t -> t.Path, t.Layer)) [ "0", "dense 4"; "1", "sigmoid"; "2", "dense 1"; "3", "sigmoid" ] "layers"
            expectClose x trace[0].Input "the first layer sees the input"
            expectClose trace[0].Output trace[1].Input "each layer sees the one before"
            expectClose (net.forward x) trace[3].Output "the last layer gives the output"
            Expect.isTrue (trace |> List.forall (fun t -> t.OutputGradient.IsNone)) "no gradients without a loss"
        }

        test "with a loss, each layer's output gradient, and the parameters' gradients untouched" {
            use net = compileBody "[2] -> [1]" "dense 4 >> sigmoid >> dense 1 >> sigmoid"
            use x = randomInput [ 3L; 2L ]
            use target = torch.ones([| 3L; 1L |], dtype = torch.ScalarType.Float64)
            let trace = Functional.Inspection.trace net x (Some(fun y -> torch.nn.functional.mse_loss(y, target)))
            let last = trace[3]
            expectClose ((last.Output - target) * 2.0 / 3.0) last.OutputGradient.Value "d mse / d y = 2 (y - t) / n"
            // Through the sigmoid: d/dz = d/dy * y (1 - y).
            expectClose (last.OutputGradient.Value * last.Output * (1.0 - last.Output)) trace[2].OutputGradient.Value "chain rule"
            for p in net.parameters () do
                Expect.isTrue (isNull p.grad) "parameters keep no gradient"
        }

        test "layers inside fun bodies and residuals are traced too, and hooks do not outlive the trace" {
            use net = compileBody "[4] -> [4]" "residual (dense 4 >> tanh) >> fun h -> h + relu h"
            use x = randomInput [ 2L; 4L ]
            let paths = Functional.Inspection.trace net x None |> List.map (fun t -> t.Path)
            Expect.equal paths [ "0.0"; "0.1"; "0"; "1.0"; "1" ] "in the order the layers finish"
            Expect.equal (Functional.Inspection.trace net x None).Length 5 "the same again: no hook left behind"
        }
    ]
