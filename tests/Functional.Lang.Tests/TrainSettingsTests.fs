/// A train block's optimizer and schedule: typed settings with PyTorch's defaults, every range rule
/// refused at the option it is about, and one spelling of every option name.
module Functional.Lang.Tests.TrainSettingsTests

open Expecto
open Functional.Lang
open Functional.Lang.Checking
open Functional.Lang.Tests.TestSupport

let private block (setting: string) =
    sprintf "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n    %s\n" setting

let private train (settings: string) = checkedProgram (block settings) |> fun p -> List.exactlyOne p.Trains

/// The setting (line 6 of the block) is refused at the first `at` in it, with a message holding `phrase`.
let private refused (setting: string) (at: string) (phrase: string) =
    bad setting (block setting) (sprintf "6:%d" (4 + setting.IndexOf(at: string) + 1)) phrase

[<Tests>]
let tests =
    testList "Train settings" [
        test "optimizers are typed, with PyTorch's defaults" {
            let t = train "optimizer = adamw (lr = 0.002, weightDecay = 0.05)"
            Expect.equal
                t.Optimizer
                { Rule = AdamW { Beta1 = 0.9; Beta2 = 0.999; Eps = 1e-8 }; Lr = 0.002; WeightDecay = 0.05; L1 = 0.0; ClipNorm = None; ClipValue = None }
                "adamw"
            Expect.equal (train "optimizer = sgd").Optimizer.Rule (Sgd { Momentum = 0.0; Nesterov = false }) "bare sgd"
            Expect.equal (train "optimizer = sgd").Optimizer.Lr 0.01 "sgd's default rate"
            Expect.equal (train "optimizer = adam").Optimizer.Lr 0.001 "adam's default rate"
            Expect.equal (train "optimizer = adamw").Optimizer.WeightDecay 0.01 "adamw's default decay"
            Expect.equal (train "optimizer = adam").Optimizer.WeightDecay 0.0 "adam's default decay"
            Expect.equal (train "epochs = 2").Optimizer (train "optimizer = sgd (lr = 0.01)").Optimizer "no optimizer is sgd"
            let t = train "optimizer = rmsprop (alpha = 0.9, momentum = 0.5, clipNorm = 1, clipValue = 2, l1 = 0.001)"
            Expect.equal t.Optimizer.Rule (RmsProp { Alpha = 0.9; Eps = 1e-8; Momentum = 0.5 }) "rmsprop"
            Expect.equal (t.Optimizer.ClipNorm, t.Optimizer.ClipValue, t.Optimizer.L1) (Some 1.0, Some 2.0, 0.001) "common settings"
        }

        test "schedules are typed, with PyTorch's defaults" {
            let schedule settings = (train settings).Schedule |> Option.get
            Expect.isNone (train "epochs = 2").Schedule "no schedule"
            Expect.equal
                (schedule "schedule = cosine (epochs = 10, warmupEpochs = 1)")
                { Rule = Cosine(10, 0.0); Warmup = Some { Length = WarmupEpochs 1; Start = 0.1 } }
                "cosine"
            Expect.equal (schedule "schedule = stepDecay (every = 3)").Rule (StepDecay(3, 0.1)) "stepDecay's gamma"
            Expect.equal (schedule "schedule = exponential (gamma = 0.5, warmupSteps = 100, warmupStart = 0)").Warmup (Some { Length = WarmupSteps 100; Start = 0.0 }) "warm-up in steps"
            Expect.equal
                (schedule "schedule = plateau (mode = \"max\")").Rule
                (Plateau { Factor = 0.1; Patience = 10; MinDelta = 0.0; Cooldown = 0; MinLr = 0.0; Mode = Max })
                "plateau"
            Expect.equal (schedule "schedule = warmup (steps = 500)") { Rule = Constant; Warmup = Some { Length = WarmupSteps 500; Start = 0.1 } } "warmup"
        }

        test "an optimizer or schedule on the command line is checked as a train block's" {
            Expect.equal (Language.checkOptimizer "--optimizer" "adamw(lr=0.002, weightDecay=0.05)") (Ok (train "optimizer = adamw (lr = 0.002, weightDecay = 0.05)").Optimizer) "--optimizer"
            Expect.equal (Language.checkSchedule "--schedule" "cosine(epochs=20)") (Ok { Rule = Cosine(20, 0.0); Warmup = None }) "--schedule"
            match Language.checkOptimizer "--optimizer" "adamw(lr=0.001, weight_decay=0.05)" with
            | Error [ d ] ->
                Expect.equal (d.Range.File, place d) ("--optimizer", "1:17") "the place in the text"
                Expect.stringContains d.Message "adamw has no option 'weight_decay'; did you mean 'weightDecay'?" "the old spelling"
                Expect.stringContains (Language.render "--optimizer" "adamw(lr=0.001, weight_decay=0.05)" [ d ]) "--optimizer:1:17: error: " "rendered like any diagnostic"
            | other -> failtestf "expected one error, got %A" other
            match Language.checkSchedule "--schedule" "cosine(epochs=0)" with
            | Error [ d ] -> Expect.equal (place d, d.Message) ("1:8", "cosine's epochs must be positive, but it is 0") "--schedule's place"
            | other -> failtestf "expected one error, got %A" other
            match Language.checkOptimizer "--optimizer" "adam(lr=" with
            | Error(d :: _) -> Expect.equal d.Range.File "--optimizer" "a syntax error names the flag"
            | other -> failtestf "expected a syntax error, got %A" other
        }

        test "a rate from elsewhere is checked by lr's rule" {
            Expect.equal (TrainSettings.checkRate "--lr" 0.1) (Ok 0.1) "a rate"
            Expect.equal (TrainSettings.checkRate "--lr" 1e300) (Error "--lr must be at most 3.4028235e38 (the largest float32), but it is 1e300") "too large for float32"
            Expect.equal (TrainSettings.checkRate "--lr" 0.0) (Error "--lr must be positive, but it is 0") "zero"
        }

        // Every rule, at the option it is about (line 6).
        refused "optimizer = adam (lr = -1)" "lr" "adam's lr must be positive, but it is -1"
        refused "optimizer = sgd (lr = 0)" "lr" "sgd's lr must be positive, but it is 0"
        refused "optimizer = sgd (lr = 1e300)" "lr" "sgd's lr must be at most 3.4028235e38 (the largest float32), but it is 1e300"
        refused "optimizer = sgd (momentum = -0.5)" "momentum" "sgd's momentum must be in [0, 1), but it is -0.5"
        refused "optimizer = sgd (momentum = 1)" "momentum" "sgd's momentum must be in [0, 1), but it is 1"
        refused "optimizer = sgd (nesterov = true)" "nesterov" "sgd's nesterov needs momentum above 0"
        refused "optimizer = sgd (nesterov = 1)" "nesterov" "sgd's nesterov must be true or false, but it is 1"
        refused "optimizer = rmsprop (alpha = 1)" "alpha" "rmsprop's alpha must be in [0, 1), but it is 1"
        refused "optimizer = rmsprop (eps = 0)" "eps" "rmsprop's eps must be positive, but it is 0"
        refused "optimizer = adam (eps = 0)" "eps" "adam's eps must be positive, but it is 0"
        refused "optimizer = adam (beta1 = 1)" "beta1" "adam's beta1 must be in [0, 1), but it is 1"
        refused "optimizer = adamw (beta2 = -0.1)" "beta2" "adamw's beta2 must be in [0, 1), but it is -0.1"
        refused "optimizer = adam (weightDecay = -1)" "weightDecay" "adam's weightDecay must be 0 or more, but it is -1"
        refused "optimizer = adam (l1 = -1)" "l1" "adam's l1 must be 0 or more, but it is -1"
        refused "optimizer = adam (clipNorm = 0)" "clipNorm" "adam's clipNorm must be positive, but it is 0"
        refused "optimizer = adam (clipValue = -1)" "clipValue" "adam's clipValue must be positive, but it is -1"
        refused "optimizer = adam (lr = \"fast\")" "lr" "adam's lr must be a number, but it is \"fast\""
        refused "optimizer = adam (weight_decay = 0.1)" "weight_decay" "adam has no option 'weight_decay'; did you mean 'weightDecay'?"
        refused "optimizer = sgd (clip_value = 1)" "clip_value" "sgd has no option 'clip_value'; did you mean 'clipValue'?"
        refused "schedule = stepDecay (gamma = 0.5)" "stepDecay" "stepDecay needs every (the epochs between decays)"
        refused "schedule = stepDecay (every = 0)" "every" "stepDecay's every must be positive, but it is 0"
        refused "schedule = stepDecay (every = 1.5)" "every" "stepDecay's every must be an integer, but it is 1.5"
        refused "schedule = stepDecay (every = 2, gamma = 1.5)" "gamma" "stepDecay's gamma must be in (0, 1], but it is 1.5"
        refused "schedule = exponential" "exponential" "exponential needs gamma (the factor per epoch)"
        refused "schedule = exponential (gamma = 0)" "gamma" "exponential's gamma must be in (0, 1], but it is 0"
        refused "schedule = cosine (epochs = 0)" "epochs" "cosine's epochs must be positive, but it is 0"
        refused "schedule = cosine (epochs = 5, minLr = -0.1)" "minLr" "cosine's minLr must be 0 or more, but it is -0.1"
        refused "schedule = cosine (epochs = 5, minLr = 0.1)" "cosine" "cosine's minLr (0.1) is above the learning rate (0.01)"
        refused "schedule = cosine (epochs = 5, min_lr = 0.0)" "min_lr" "cosine has no option 'min_lr'; did you mean 'minLr'?"
        refused "schedule = plateau (factor = 1)" "factor" "plateau's factor must be in (0, 1), but it is 1"
        refused "schedule = plateau (patience = -1)" "patience" "plateau's patience must be 0 or more, but it is -1"
        refused "schedule = plateau (cooldown = -1)" "cooldown" "plateau's cooldown must be 0 or more, but it is -1"
        refused "schedule = plateau (minDelta = -1)" "minDelta" "plateau's minDelta must be 0 or more, but it is -1"
        refused "schedule = plateau (minLr = -1)" "minLr" "plateau's minLr must be 0 or more, but it is -1"
        refused "schedule = plateau (mode = \"up\")" "mode" "plateau's mode must be \"min\" or \"max\", but it is \"up\""
        refused "schedule = stepDecay (every = 2, warmupSteps = 5, warmupEpochs = 1)" "warmupEpochs" "stepDecay's warmupEpochs cannot be given with warmupSteps"
        refused "schedule = stepDecay (every = 2, warmupSteps = -5)" "warmupSteps" "stepDecay's warmupSteps must be 0 or more, but it is -5"
        refused "schedule = stepDecay (every = 2, warmupStart = 0.5)" "warmupStart" "stepDecay's warmupStart needs warmupSteps or warmupEpochs"
        refused "schedule = cosine (epochs = 2, warmupEpochs = 1, warmupStart = 2)" "warmupStart" "cosine's warmupStart must be in [0, 1], but it is 2"
        refused "schedule = cosine (epochs = 2, warmup_epochs = 1)" "warmup_epochs" "cosine has no option 'warmup_epochs'; did you mean 'warmupEpochs'?"
        refused "schedule = warmup" "warmup" "warmup needs its length: steps or epochs"
        refused "schedule = warmup (epochs = 0)" "epochs" "warmup's epochs must be positive, but it is 0"
        refused "schedule = warmup (steps = 5, epochs = 1)" "epochs" "warmup's epochs cannot be given with steps"
        refused "schedule = warmup (steps = 5, start = -1)" "start" "warmup's start must be in [0, 1], but it is -1"
        refused "schedule = adam" "adam" "schedule must be stepDecay, exponential, cosine, plateau or warmup, but it is the optimizer adam"
        refused "optimizer = cosine" "cosine" "optimizer must be sgd, rmsprop, adam or adamw, but it is the schedule cosine"
    ]
