/// Every activation: forward equal to TorchSharp's module, gradients against finite differences.
module Functional.Lang.Tests.ActivationTests

open Expecto
open TorchSharp
open Functional.Lang.Tests.LayerTesting

let private cases: (string * (unit -> torch.nn.Module<torch.Tensor, torch.Tensor>)) list =
    [ "sigmoid", (fun () -> torch.nn.Sigmoid())
      "tanh", (fun () -> torch.nn.Tanh())
      "relu", (fun () -> torch.nn.ReLU())
      "leakyRelu", (fun () -> torch.nn.LeakyReLU(0.01))
      "leakyRelu (slope = 0.2)", (fun () -> torch.nn.LeakyReLU(0.2))
      "elu", (fun () -> torch.nn.ELU(1.0))
      "elu (alpha = 0.5)", (fun () -> torch.nn.ELU(0.5))
      "gelu", (fun () -> torch.nn.GELU())
      "silu", (fun () -> torch.nn.SiLU())
      "softmax", (fun () -> torch.nn.Softmax(-1L))
      "logSoftmax", (fun () -> torch.nn.LogSoftmax(-1L))
      "identity", (fun () -> torch.nn.Identity()) ]

[<Tests>]
let tests =
    testSequenced
    <| testList "Activations" [
        for (source, reference) in cases do
            test source {
                use net = compileBody "[2; 5] -> [2; 5]" source
                use x = randomInput [ 3L; 2L; 5L ]
                use expected = (reference ()).forward x
                use actual = net.forward x
                expectClose expected actual "forward"
                // Through a dense layer, so parameters get gradients too.
                use withWeights = compileBody "[2; 5] -> [2; 5]" (sprintf "dense 5 >> %s" source)
                gradcheck withWeights x
            }
    ]
