/// `fnn generate`: continues a prompt with a trained language model. Standard output gets the prompt and
/// then the continuation as it is produced, nothing else; the seed and the timing go to standard error.
module Functional.Cli.Commands.Generate

open System
open Argu
open Functional.Generation
open Functional.Cli.Arguments
open Functional.Cli.Output

let private options (args: ParseResults<GenerateArgs>) =
    if args.GetResults GenerateArgs.Stop |> List.contains "" then
        raise (ArgumentException "--stop \"\": a stop text must not be empty")
    let defaults = GenerationOptions()
    GenerationOptions(
        MaxTokens = args.GetResult(GenerateArgs.Tokens, defaults.MaxTokens),
        Temperature = args.GetResult(GenerateArgs.Temperature, defaults.Temperature),
        TopK = (args.TryGetResult GenerateArgs.Top_K |> Option.toNullable),
        TopP = (args.TryGetResult GenerateArgs.Top_P |> Option.toNullable),
        Stop = (args.GetResults GenerateArgs.Stop |> Array.ofList),
        Seed = (args.TryGetResult GenerateArgs.Seed |> Option.toNullable),
        UseCache = not (args.Contains GenerateArgs.No_Cache))

/// The generation's own account, for standard error.
let private report (run: GenerationRun) (generator: TextGenerator) (useCache: bool) =
    let seconds = run.Elapsed.TotalSeconds
    let rate = if seconds > 0.0 then float run.GeneratedTokens / seconds else 0.0
    let cache =
        match useCache, generator.CacheUnavailableReason with
        | false, _ -> "no cache"
        | true, null -> "cache"
        | true, why -> sprintf "no cache (%s)" why
    let ending = if run.End = GenerationEnd.StopText then ", ended at a stop text" else ""
    eprintfn "%d tokens in %.2f s (%.1f tokens/s, first after %.0f ms; %s; seed %d%s)"
        run.GeneratedTokens seconds rate run.TimeToFirstToken.TotalMilliseconds cache run.Seed.Value ending

let run (args: ParseResults<GenerateArgs>) =
    let path = args.GetResult GenerateArgs.File
    let weights = args.GetResult GenerateArgs.Weights
    let settings = Functional.Cli.TrainFlags.naming (fun () -> let o = options args in o.Validate(); o)
    use network =
        Functional.Cli.Loading.trainedNetwork path weights (args.TryGetResult GenerateArgs.Adapter) (args.TryGetResult GenerateArgs.Device)
            (args.GetResults GenerateArgs.Set) (args.Contains GenerateArgs.Strict)
    let generator = TextGenerator(network)
    let prompt = args.GetResult(GenerateArgs.Prompt, "")
    let generation =
        try generator.Start(prompt, settings)
        with :? ArgumentException as e -> raise (ArgumentException(sprintf "--prompt: %s" (reason e), e))
    use stop = new Functional.Cli.StopSignals.Listener()
    let out = Console.Out
    out.Write prompt
    out.Flush()
    let pieces = (generation :> Collections.Generic.IAsyncEnumerable<string>).GetAsyncEnumerator stop.Token
    let finished =
        try
            try
                while pieces.MoveNextAsync().AsTask().GetAwaiter().GetResult() do
                    out.Write pieces.Current
                    out.Flush()
                true
            with :? OperationCanceledException -> false
        finally
            pieces.DisposeAsync().AsTask().GetAwaiter().GetResult()
    // The line break that ends the terminal's line goes to standard error: standard output is the text alone.
    eprintfn ""
    report generation generator settings.UseCache
    if finished then Exit.ok else stop.ExitCode
