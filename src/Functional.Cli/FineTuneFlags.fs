/// The fine-tuning flags (`--freeze`, `--unfreeze-at`, `--lr-for`, `--lora`, `--lora-on`, `--trainable`, `--key-map`)
/// as host options, falling back to the train block's settings; errors name the flag and what it holds.
module Functional.Cli.FineTuneFlags

open System
open System.IO
open Functional.Checkpoints
open Functional.FineTuning
open Functional.Training

/// `--lr-for PATTERN=RATE`.
let private rule (text: string) =
    match text.LastIndexOf '=' with
    | i when i > 0 ->
        let pattern, rate = text.Substring(0, i).Trim(), text.Substring(i + 1).Trim()
        match Double.TryParse(rate, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
        | true, r when r > 0.0 && not (Double.IsInfinity r) -> LearningRateRule(pattern, r)
        | _ -> raise (ArgumentException(sprintf "--lr-for %s: the rate must be a positive number, as in --lr-for \"head.*=0.01\"" (Functional.Excerpt.short text)))
    | _ -> raise (ArgumentException(sprintf "--lr-for %s: expected PATTERN=RATE, as in --lr-for \"head.*=0.01\"" (Functional.Excerpt.short text)))

/// Freezing and rates from the flags, or the plan's when no flag is given; None when neither says anything.
let fineTuning (freeze: string list) (unfreezeAt: int option) (lrFor: string list) (trainable: string list) (plan: TrainingPlan option) =
    if freeze.IsEmpty && unfreezeAt.IsNone && lrFor.IsEmpty && trainable.IsEmpty then
        plan |> Option.bind (fun p -> Option.ofObj p.FineTuning)
    else
        if unfreezeAt.IsSome && freeze.IsEmpty then raise (ArgumentException "--unfreeze-at needs --freeze: it says when the frozen parameters start to train")
        Some(
            FineTuningOptions(
                Freeze = List.toArray freeze,
                UnfreezeAtEpoch = Option.toNullable unfreezeAt,
                LearningRates = (lrFor |> List.map rule |> List.toArray),
                Train = List.toArray trainable
            )
        )

/// LoRA from `--lora` and `--lora-on` (one alone takes the other's defaults: `--lora` needs targets), or the plan's.
let lora (settings: string option) (on: string list) (plan: TrainingPlan option) : LoraOptions option =
    match settings, on with
    | None, [] -> plan |> Option.bind (fun p -> Option.ofObj p.Lora)
    | Some _, [] -> raise (ArgumentException "--lora needs --lora-on PATTERN: the projections to adapt, such as *.query.weight or head.weight")
    | text, targets ->
        try Some(LoraOptions.Parse(defaultArg text "", List.toArray targets))
        with
        | :? FormatException as e -> raise (ArgumentException(sprintf "--lora %s: %s" (Functional.Excerpt.short (defaultArg text "")) e.Message, e))
        | :? ArgumentOutOfRangeException as e ->
            raise (ArgumentException(sprintf "--lora %s: %s" (Functional.Excerpt.short (defaultArg text "")) ((Output.reason e).Split('\n').[0]), e))

/// `--key-map`: rules written out, or a JSON file of them (a path that exists).
let keyMap (text: string option) : KeyMap option =
    text
    |> Option.map (fun t ->
        try if File.Exists t then KeyMap.Load t else KeyMap.Parse t
        with :? FormatException as e -> raise (ArgumentException(sprintf "--key-map %s: %s" (Functional.Excerpt.short t) e.Message, e)))
