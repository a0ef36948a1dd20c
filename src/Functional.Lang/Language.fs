/// The language's front door: check a source file and the files it imports, render diagnostics,
/// compile a model.
module Functional.Lang.Language

open System
open System.Collections.Generic
open System.IO
open Functional.Lang.Syntax
open Functional.Lang.Checking
open Functional.Lang.Compilation

/// The text of every file a check read, by the name its diagnostics use: for rendering them.
type Sources = IReadOnlyDictionary<string, string>

let private nowhere file = Range.make file (0, 0) (0, 0)

/// Far more than any program; a bound so that a path like /dev/zero cannot be read forever.
let private largestSource = 16 * 1024 * 1024

/// A source file's text, read up to the bound. Only regular files (Files): a device or a pipe (/dev/stdin,
/// /dev/zero, a FIFO) could block or never end.
let readSource (path: string) : Result<string, string> =
    match Functional.Files.problem path with
    | Some why -> Error why
    | None ->
        use reader = new StreamReader(Functional.Files.openRead path)
        let text = Text.StringBuilder()
        let chunk = Array.zeroCreate<char> 65536
        let mutable finished = false
        while not finished && text.Length <= largestSource do
            let n = reader.Read(chunk, 0, chunk.Length)
            if n = 0 then finished <- true else text.Append(chunk, 0, n) |> ignore
        if text.Length > largestSource then Error(sprintf "it is larger than %d MB, too large for a program" (largestSource / 1024 / 1024))
        else Ok(text.ToString())

let rec private checkText (overrides: Map<string, Value * Range>) (sources: Dictionary<string, string>) (visiting: string list) (file: string) (text: string) =
    sources[file] <- text
    match Parser.parse file text with
    | _, (_ :: _ as errors) -> Error errors
    | program, [] when not (Depth.tooDeep program).IsEmpty -> Error(Depth.tooDeep program)
    | program, [] ->
        // A file name without a folder (or none at all) imports from the current folder.
        let folder = match Path.GetDirectoryName file with null -> "" | f -> f
        let imports (written: string) (at: Range) : Checked<Elaborate.Exports> =
            // Diagnostics name an imported file by its path as seen from the importing file's folder.
            let name = Path.Combine(folder, written)
            if String.IsNullOrWhiteSpace written || written.IndexOfAny(Path.GetInvalidPathChars()) >= 0 then
                Checked.fail at (sprintf "import needs the name of a .fnn file, but it is \"%s\"" written)
            else
                let full = Path.GetFullPath name
                if List.contains full visiting then
                    let cycle = (full :: visiting) |> List.rev |> List.map Path.GetFileName |> String.concat " -> "
                    Checked.fail at (sprintf "these imports go round in a circle: %s" cycle)
                elif not (File.Exists full) then
                    Checked.fail at (sprintf "cannot import \"%s\": there is no file %s" written full)
                else
                    try
                        match readSource full with
                        | Ok imported -> checkText Map.empty sources (full :: visiting) name imported |> Result.map snd
                        | Error why -> Checked.fail at (sprintf "cannot import \"%s\": %s" written why)
                    with :? IOException | :? UnauthorizedAccessException as e ->
                        Checked.fail at (sprintf "cannot import \"%s\": %s" written e.Message)
        Elaborate.program imports overrides program

/// Runs `f` on a thread with a large stack: checking recurses over the syntax tree, whose depth the
/// Depth limit bounds, and a test runner's or a service's thread may have a small stack.
let private onLargeStack (f: unit -> 'T) : 'T =
    let mutable result = Unchecked.defaultof<'T>
    let mutable failure: Runtime.ExceptionServices.ExceptionDispatchInfo = null
    let run () =
        try
            result <- f ()
        with e ->
            failure <- Runtime.ExceptionServices.ExceptionDispatchInfo.Capture e
    let thread = Threading.Thread(run, 256 * 1024 * 1024)
    thread.Start()
    thread.Join()
    if not (isNull failure) then failure.Throw()
    result

/// Parses and checks source text, and the files it imports (paths relative to `file`'s folder).
/// `overrides` replace model hyperparameters by name.
let checkWith (overrides: Map<string, Value * Range>) (file: string) (text: string) : Checked<CheckedProgram> * Sources =
    let file = if String.IsNullOrEmpty file then "<source>" else file
    let text = if isNull text then "" else text
    let sources = Dictionary<string, string>()
    let full = try Path.GetFullPath file with _ -> file
    let result = onLargeStack (fun () -> checkText overrides sources [ full ] file text |> Result.map fst)
    result, sources :> Sources

let check file text = checkWith Map.empty file text |> fst

/// Reads and checks a file; a missing or unreadable file is a diagnostic too.
let checkFileWith (overrides: Map<string, Value * Range>) (path: string) : Checked<CheckedProgram> * Sources =
    let empty = Dictionary<string, string>() :> Sources
    try
        match readSource path with
        | Ok text -> checkWith overrides path text
        | Error why -> Checked.fail (nowhere path) why, empty
    with
    | :? FileNotFoundException
    | :? DirectoryNotFoundException -> Checked.fail (nowhere path) "no such file", empty
    | :? IOException
    | :? UnauthorizedAccessException as e -> Checked.fail (nowhere path) (sprintf "cannot read the file: %s" e.Message), empty

let checkFile path = checkFileWith Map.empty path

/// Renders diagnostics against the texts of the files they came from.
let renderWith (sources: Sources) (diagnostics: Diagnostic list) =
    diagnostics
    |> List.map (Diagnostic.render (fun f -> match sources.TryGetValue f with | true, t -> Some t | _ -> None))
    |> String.concat "\n"

/// Renders diagnostics of one file against its text.
let render (file: string) (text: string) (diagnostics: Diagnostic list) =
    renderWith (readOnlyDict [ file, text ]) diagnostics

/// `name=value` from a command line, as a hyperparameter override: the value is a number, true/false
/// or a string ("64", "0.1", "-1", "true", "\"adam\"").
let parseOverride (text: string) : Result<string * (Value * Range), string> =
    match text.IndexOf '=' with
    | i when i > 0 ->
        let name = text.Substring(0, i).Trim()
        let valueText = text.Substring(i + 1).Trim()
        let text = Functional.Excerpt.short text
        let tooLarge (v: float) = Error(sprintf "--set %s: the integer %.0f is too large: an integer is at most %d" text v Int32.MaxValue)
        let value =
            match Parser.parseExpr "--set" valueText with
            | Ok(Number(v, true, _)) when abs v <= float Int32.MaxValue -> Ok(VInt(int v))
            | Ok(Number(v, true, _)) -> tooLarge v
            | Ok(Number(v, false, _)) when Double.IsFinite v -> Ok(VFloat v)
            | Ok(Negate(Number(v, true, _), _)) when abs v <= float Int32.MaxValue -> Ok(VInt(-(int v)))
            | Ok(Negate(Number(v, true, _), _)) -> tooLarge -v
            | Ok(Negate(Number(v, false, _), _)) when Double.IsFinite v -> Ok(VFloat -v)
            | Ok(Number(_, false, _))
            | Ok(Negate(Number(_, false, _), _)) -> Error(sprintf "--set %s: the number is too large for a float" text)
            | Ok(Bool(b, _)) -> Ok(VBool b)
            | Ok(String(s, _)) -> Ok(VString s)
            | _ -> Error(sprintf "--set %s: the value must be a number, true, false or a \"string\"" text)
        match value with
        | Ok v when name.Length > 0 && name |> Seq.forall (fun c -> Char.IsLetterOrDigit c || c = '_') && Char.IsLetter name[0] ->
            Ok(name, (v, nowhere "--set"))
        | Ok _ -> Error(sprintf "--set %s: '%s' is not a hyperparameter name" text (Functional.Excerpt.short name))
        | Error message -> Error message
    | _ -> Error(sprintf "--set %s: expected name=value, as in --set dim=64" (Functional.Excerpt.short text))

/// An optimizer written on a command line or in a host's settings (`adamw(lr=0.001)`), parsed and checked
/// as a train block's `optimizer` is; diagnostics call the text `origin` (`--optimizer:1:12: error: ...`).
let checkOptimizer (origin: string) (text: string) : Checked<OptimizerSettings> = TrainPlans.optimizerFromText origin text

/// A schedule written on a command line (`cosine(epochs=20)`), parsed and checked as a train block's is.
let checkSchedule (origin: string) (text: string) : Checked<ScheduleSettings> = TrainPlans.scheduleFromText origin text

/// Builds a model with fresh weights drawn from a generator of its own started from `seed` (the weights
/// torch's modules gave after the global generator was seeded with it).
let compileSeeded (placement: Placement) (seed: int64) (model: Model) : CompiledModel =
    Compiler.compileSeeded placement (Some seed) model

/// Builds a model with fresh weights (from `seed`, or a random one when None) and, when `lora` says so,
/// LoRA adapters beside the projections it names (drawn after every base weight).
let compileAdapted (placement: Placement) (seed: int64 option) (lora: Lora.Settings option) (model: Model) : CompiledModel =
    Compiler.compileAdapted placement seed lora model

/// Builds a model with fresh weights from a random seed.
let compile (placement: Placement) (model: Model) : CompiledModel = Compiler.compileSeeded placement None model
