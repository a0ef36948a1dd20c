/// Property tests of the front end's promise: no text makes the compiler throw, hang or overflow its stack.
/// `Language.check` (parse + check), `Parser.parse` and `Parser.parseExpr` return a result for any text:
/// `Ok`, or a non-empty list of diagnostics whose ranges lie inside the text (or inside a file it
/// imports), the same result every time, within a time limit.
///
/// Generators: mutations of real programs (every .fnn file of examples/ and dsl/ plus inline programs
/// that use every construct), token soup from the language's vocabulary, programs and expressions from a
/// small grammar (models, chains of builtins with random arguments, shapes, params, train blocks), most
/// of them wrong somewhere, so that the checker is exercised and not only the parser; and programs valid
/// by construction (dense chains ending in the declared output), which must check Ok, with twins whose
/// declared output is wrong, which must not. Failing inputs are shrunk by lines, then by chunks of
/// characters.
///
/// FNN_PROPERTY_CASES (default 2000) sets the number of cases of each property and FNN_PROPERTY_SEED the
/// seed (fixed by default, so that CI is deterministic); both are printed. Inputs that broke the promise
/// once are kept as plain regression tests; deep inputs run in a child process, since a stack overflow
/// would end the test run. A bug that is known but not fixed yet gets a test named "KNOWN BUG: ..." and an
/// entry in `knownProblems` or `knownCrashes`, so that the properties stay green meanwhile.
module Functional.Lang.Tests.PropertyTests

open System
open System.Diagnostics
open System.IO
open System.Text.RegularExpressions
open System.Threading
open System.Threading.Tasks
open Expecto
open FsCheck
open FsCheck.FSharp
open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking

// ---------------------------------------------------------------------------------------------
// Settings

let private environmentValue name = Environment.GetEnvironmentVariable name |> Option.ofObj |> Option.map (fun s -> s.Trim())

/// Cases of each property.
let private cases =
    match environmentValue "FNN_PROPERTY_CASES" |> Option.map Int32.TryParse with
    | Some(true, n) when n > 0 -> n
    | _ -> 2000

let private seed =
    match environmentValue "FNN_PROPERTY_SEED" |> Option.map UInt64.TryParse with
    | Some(true, s) -> s
    | _ -> 20240611UL

/// FsCheck's SplitMix generator needs an odd gamma.
let private gamma = 0x9E3779B97F4A7C15UL

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = cases
        startSize = 1
        endSize = 100
        replay = Some(seed, gamma, None) }

let private announce =
    lazy
        printfn
            "Properties: %d cases per property, seed %d (set FNN_PROPERTY_CASES and FNN_PROPERTY_SEED to change them)"
            cases
            seed

/// The longest any single input may take (parse, parseExpr and check twice) before it counts as a hang: a
/// guard against hangs, not a limit on speed, so it holds on a machine busy with other work (a check takes
/// milliseconds; the slowest input, 100,000 layers, takes about a second on an idle machine).
let private timeLimit = TimeSpan.FromSeconds 120.0

/// The name inputs are checked under (a relative name: imports resolve from the working directory), unless
/// they are mutants of a file, which are checked under that file's path so that its imports resolve.
let private file = "prop.fnn"

// ---------------------------------------------------------------------------------------------
// What every input must satisfy

/// The input as an F# string literal, for failure messages (long inputs are cut in the middle).
let private literal (text: string) =
    if isNull text then
        "null"
    else
        let escaped =
            text
                .Replace("\\", "\\\\")
                .Replace("\"", "\\\"")
                .Replace("\n", "\\n")
                .Replace("\r", "\\r")
                .Replace("\t", "\\t")
                .Replace("\000", "\\000")
        let escaped =
            if escaped.Length <= 3000 then escaped
            else escaped.Substring(0, 1500) + "\" + ... + \"" + escaped.Substring(escaped.Length - 1500)
        sprintf "\"%s\" (%d characters)" escaped text.Length

/// The text of a file a diagnostic names: the input itself (checked as `inputName`), or a file it imported.
let private textOf (inputName: string) (input: string) (name: string) =
    if name = inputName then Some input
    elif not (String.IsNullOrEmpty name) && File.Exists name then Some(File.ReadAllText name)
    else None

/// Every way a diagnostic can fail to point into the text it is about.
let private rangeProblems (inputName: string) (what: string) (text: string) (diagnostics: Diagnostic list) =
    let linesOf = Collections.Generic.Dictionary<string, string[] option>()
    let lines name =
        match linesOf.TryGetValue name with
        | true, known -> known
        | _ ->
            let found = textOf inputName text name |> Option.map (fun t -> if isNull t then [| "" |] else t.Split('\n'))
            linesOf[name] <- found
            found
    let check (d: Diagnostic) (r: Range) (role: string) =
        let at () = sprintf "%s: %s of '%s' at %s:%d:%d-%d:%d" what role d.Message r.File r.Start.Line r.Start.Column r.End.Line r.End.Column
        match lines r.File with
        | None -> [ sprintf "%s names a file that is neither the input nor an imported file" (at ()) ]
        | Some lines ->
            [ if r.Start.Line < 1 || r.Start.Column < 1 then
                  yield sprintf "%s starts before 1:1" (at ())
              elif r.Start.Line > lines.Length + 1 then
                  yield sprintf "%s starts after the last line (the text has %d lines)" (at ()) lines.Length
              elif r.Start.Line <= lines.Length && r.Start.Column > lines[r.Start.Line - 1].Length + 1 then
                  yield sprintf "%s starts past the end of its line (%d characters)" (at ()) lines[r.Start.Line - 1].Length
              if r.End.Line < r.Start.Line || (r.End.Line = r.Start.Line && r.End.Column < r.Start.Column) then
                  yield sprintf "%s ends before it starts" (at ()) ]
    [ for d in diagnostics do
          yield! check d d.Range "the range"
          for (related, _) in d.Related do
              // notes may point at builtins (Range.none); those that name a file must point into it
              if related.File = inputName || File.Exists related.File then yield! check d related "a related range"
          if String.IsNullOrWhiteSpace d.Message then
              yield sprintf "%s: a diagnostic at %O has no message" what d.Range
          if d.Message.StartsWith "internal" then
              yield sprintf "%s: '%s' (the compiler threw and caught its own exception)" what d.Message ]

/// The result, rendered: for an error the diagnostics as the CLI prints them, for a program what was
/// inferred (models, shapes, layer paths, parameters, train blocks).
let private summary (name: string) (text: string) (result: Checked<CheckedProgram>) =
    match result with
    | Error ds -> "Error\n" + Language.render name text ds
    | Ok p ->
        // (string concatenation: %A would dominate the time of a property)
        let model (m: Model) =
            let nodes = Node.walk m.Body |> Seq.map (fun n -> n.Path + ":" + n.Name + ":" + string n.Output) |> String.concat ", "
            let parameters = m.Params |> List.map (fun p -> p.Name + string (Shape.ofInts p.Shape)) |> String.concat ", "
            let hypers = m.Hyperparameters |> List.map (fun (n, v) -> n + "=" + v) |> String.concat ", "
            "model " + m.Name + " " + string m.Input + " -> " + string m.Output + " (" + hypers + ") params [" + parameters + "] nodes [" + nodes + "]"
        let trains = p.Trains |> List.map (fun t -> "train " + t.Model)
        String.concat "\n" ("Ok" :: (List.map model p.Models @ trains))

/// Set once an input has run past the time limit: shrinking stops then, since every further candidate
/// could take the whole limit again (and leave another thread spinning).
let mutable private hung = false

type private Observation =
    { Check: Checked<CheckedProgram>
      Problems: string list }

/// Runs the three entry points on one input checked as `file` (and `check` a second time), on a thread-pool
/// thread with a time limit, and lists every broken promise.
let private observeAs (file: string) (text: string) : Observation =
    let work () =
        let problems = ResizeArray<string>()
        let guarded what f =
            try
                Some(f ())
            with e ->
                problems.Add(sprintf "%s threw %s" what (string e))
                None
        match guarded "Parser.parse" (fun () -> Parser.parse file text) with
        | Some(_, ds) -> problems.AddRange(rangeProblems file "Parser.parse" text ds)
        | None -> ()
        match guarded "Parser.parseExpr" (fun () -> Parser.parseExpr file text) with
        | Some(Error []) -> problems.Add "Parser.parseExpr returned Error with no diagnostics"
        | Some(Error ds) -> problems.AddRange(rangeProblems file "Parser.parseExpr" text ds)
        | _ -> ()
        let first = guarded "Language.check" (fun () -> Language.check file text)
        let second = guarded "Language.check (second run)" (fun () -> Language.check file text)
        match first with
        | Some(Error []) -> problems.Add "Language.check returned Error with no diagnostics"
        | Some(Error ds) ->
            problems.AddRange(rangeProblems file "Language.check" text ds)
            if not (ds |> List.exists Diagnostic.isError) then
                problems.Add "Language.check returned Error with warnings only"
        | _ -> ()
        match first, second with
        | Some a, Some b ->
            let sa = guarded "rendering the result" (fun () -> summary file text a)
            let sb = guarded "rendering the result" (fun () -> summary file text b)
            if sa <> sb then
                problems.Add(sprintf "Language.check is not deterministic: the first run gave\n%A\nthe second\n%A" sa sb)
        | _ -> ()
        { Check = defaultArg first (Error []); Problems = List.ofSeq problems }
    let task = Task.Run(fun () -> work ())
    if task.Wait timeLimit then
        task.Result
    else
        hung <- true
        { Check = Error []
          Problems = [ sprintf "the compiler did not finish within %gs (a hang?)" timeLimit.TotalSeconds ] }

let private observe text = observeAs file text

/// What `observe` says of `Parser.parseExpr` alone, for expressions (cheap enough to run inline).
let private parseExprProblems (text: string) =
    try
        match Parser.parseExpr file text with
        | Error [] -> [ "Parser.parseExpr returned Error with no diagnostics" ]
        | Error ds -> rangeProblems file "Parser.parseExpr" text ds
        | Ok _ -> []
    with e ->
        [ sprintf "Parser.parseExpr threw %s" (string e) ]

let private describeFailureAs (name: string) (text: string) (problems: string list) =
    sprintf
        "%s\nfor the input %s checked as %s\n(seed %d; rerun with FNN_PROPERTY_SEED=%d)"
        (String.concat "\n" problems)
        (literal text)
        name
        seed
        seed

let private describeFailure text problems = describeFailureAs file text problems

/// Known bugs, each with its own "KNOWN BUG" test below: the properties let these problems pass (a name and
/// a test on the problem's text, exception and stack included), so that they stay green and catch everything
/// else. Delete an entry once its bug is fixed.
let private knownProblems: (string * (string -> bool)) list = []

/// Known bugs that end the process (a stack overflow): the properties skip inputs that would reach them.
/// Delete an entry once its bug is fixed.
let private knownCrashes: (string * Regex) list = []

let private unknownProblems (problems: string list) =
    problems |> List.filter (fun p -> not (knownProblems |> List.exists (fun (_, known) -> known p)))

/// The property every generator feeds: no exception, no hang, non-empty errors inside the text, the same
/// result twice.
let private noInputBreaksTheCompilerAs (name: string) (text: string) =
    if not (isNull text) && knownCrashes |> List.exists (fun (_, r) -> r.IsMatch text) then
        ()
    else
        match unknownProblems (observeAs name text).Problems with
        | [] -> ()
        | problems -> failwith (describeFailureAs name text problems)

let private noInputBreaksTheCompiler text = noInputBreaksTheCompilerAs file text

// ---------------------------------------------------------------------------------------------
// Shrinking: inputs are minimised by dropping lines, then chunks of characters (halving their size).

let private shrinkText (text: string) : seq<string> =
    if String.IsNullOrEmpty text || hung then
        Seq.empty
    else
        let lines = text.Split('\n')
        let withoutLines =
            if lines.Length < 2 then Seq.empty
            else
                seq {
                    for i in 0 .. lines.Length - 1 do
                        yield String.Join("\n", Array.append lines[.. i - 1] lines[i + 1 ..])
                }
        let chunkSizes = Seq.unfold (fun c -> if c >= 1 then Some(c, c / 2) else None) (max 1 (text.Length / 2))
        let withoutChunks =
            seq {
                for size in chunkSizes do
                    for start in 0..size .. text.Length - size do
                        yield text.Remove(start, size)
            }
        let collapsed = seq { if text.Contains "  " then yield Regex.Replace(text, " {2,}", " ") }
        Seq.concat [ withoutLines; withoutChunks; collapsed ] |> Seq.filter (fun s -> s.Length < text.Length)

let private textArb (g: Gen<string>) = Arb.fromGenShrink (g, shrinkText)

/// Shrinks the text of a (name, text) pair; the name stays.
let private namedArb (g: Gen<string * string>) =
    Arb.fromGenShrink (g, fun (name, text) -> shrinkText text |> Seq.map (fun t -> name, t))

let private property name (arb: Arbitrary<'a>) (body: 'a -> unit) =
    testPropertyWithConfig config name (fun () ->
        announce.Force()
        Prop.forAll arb body)

// ---------------------------------------------------------------------------------------------
// The corpus: every .fnn file of the repository's examples, and inline programs covering every construct.

let private inlinePrograms =
    [ // values, functions with types and defaults, strings with escapes, comments, doc comments
      "// every kind of top-level value
/// A documented rate
let rate = 0.1
let negative = -3
let big = 2147483647
let tiny = 1e-300
let huge = 2.5E+300
let text = \"a \\\"quoted\\\" string\\twith\\\\escapes\\n\"
let flag = true
let off = false
let power = 2 ** -1
let arithmetic = (1 + 2) * 3 - 4 / 2
let pairs = [ [0; 1] => [1]; [1; 0] => [0] ]
let nested = [ [ [1; -2]; [3; 4] ]; [ [5; 6]; [-7.5; 8] ] ]
let empty = []
let block (units: int) (act = relu) = dense units >> act
let scale (k: float = 0.5) x = x * k
let twice f = fun x -> f (f x)
let pick (b: bool) x y = x
(* a block comment (* nested *)
   over two lines *)
"
      // a model with hyperparameters, params, local lets, a fun body, pipes and labels
      "/// A model written out by hand.
/// Two doc lines.
model Net (hidden = 8, (classes: int = 3), rate: float = 0.5,) : [4] -> [classes] =
    param w : [4; hidden] = normal 0.1
    param b : [hidden] = zeros
    param v : [hidden; classes] = uniform -0.1 0.1
    let act = relu
    fun x ->
        let y = x @ w + b
        let z = act y
        z @ v |> softmax

model Chain : [2] -> [1] =
    dense 4 >> relu as first
    >> (dense 4 >> tanh) as blk
    >> leakyRelu (slope = 0.2) >> elu
    >> dense 1 >> sigmoid // a trailing comment

let examples =
    [ [0; 0] => [0]
      [0; 1] => [1]
      -1 => 2 ]

train Chain with
    data = [ [0; 0] => [0]; [0; 1] => [1]; [1; 0] => [1]; [1; 1] => [0] ]
    loss = bce
    optimizer = sgd (lr = 0.5) (momentum = 0.9)
    epochs = 10
    batch = 2
"
      // helpers, partial application, math builtins, symbolic and token shapes, import
      "import \"other.fnn\"
let block (units: int) (act = relu) = dense units >> act
let residual f = fun x -> x + f x
let scale (k = 0.5) x = x * k

model Deep (width = 8) : [4] -> [2] =
    block width
    >> residual (block width (act = tanh))
    >> scale (k = 0.1)
    >> exp >> log >> sqrt >> abs
    >> block 2 (act = identity) as head

model Seq : [seq; 16] -> [seq; 4] =
    dense 4 >> gelu >> silu >> logSoftmax

model Tokens : [context] int -> [context; 8] =
    fun x -> x

model Wide : [2] -> [1] = dense 4
  >> dense 1

train Deep with
    data = [ [1; 2; 3; 4] => [1; 0]; [4; 3; 2; 1] => [0; 1] ]
    loss = crossEntropy
    optimizer = adam (lr = 0.01)
    epochs = 1000
"
      // train settings with everything, a model using a top-level let as a dimension
      "let inputs = 3
let points = [ [0.5; -0.5; 1e-3] => [1]; [1.0; 2.0; -3.0] => [0] ]

model Logistic : [inputs] -> [1] =
    param w : [inputs; 1] = he
    param b : [1] = ones
    fun x -> 1 / (1 + exp (-(x @ w + b)))

model Small : [1] -> [1] = linear 1

train Logistic with
    data = points
    loss = l1
    optimizer = adam
    epochs = 3
    batch = 1
" ]

/// Each program with the name it is checked under: a file's path (its imports are relative to it) or `file`.
let private corpus =
    let files =
        [ for folder in [ "examples"; "dsl" ] do
              let dir = Path.Combine(TestSupport.repoRoot, folder)
              if Directory.Exists dir then
                  for path in Directory.EnumerateFiles(dir, "*.fnn", SearchOption.AllDirectories) do
                      let parts = path.Replace('\\', '/').Split('/')
                      if not (Array.contains "bin" parts || Array.contains "obj" parts) then
                          yield path, File.ReadAllText path ]
    files @ List.map (fun t -> file, t) inlinePrograms |> List.distinctBy snd |> Array.ofList

let private corpusLines = corpus |> Array.collect (fun (_, t) -> t.Split('\n')) |> Array.distinct

// ---------------------------------------------------------------------------------------------
// Vocabulary

let private keywords = [ "let"; "model"; "param"; "train"; "with"; "fun"; "import"; "as"; "true"; "false" ]

let private operators =
    [ ">>"; "|>"; "->"; "=>"; "**"; "@"; "+"; "-"; "*"; "/"; "="; ":"; ";"; ","; "("; ")"; "["; "]" ]

/// The builtins the checker knows now, and those being added (layers for images and sequences).
let private builtinNames =
    let known = Builtins.table |> Map.keys |> List.ofSeq
    known
    @ [ "dense"; "linear"; "relu"; "sigmoid"; "tanh"; "softmax"; "logSoftmax"; "gelu"; "silu"; "identity"
        "leakyRelu"; "elu"; "exp"; "log"; "sqrt"; "abs"; "zeros"; "ones"; "xavier"; "he"; "normal"; "uniform"
        "mse"; "bce"; "crossEntropy"; "l1"; "sgd"; "adam"; "conv1d"; "conv2d"; "maxPool2d"; "avgPool2d"; "flatten"
        "reshape"; "dropout"; "batchNorm"; "embed"; "positional"; "sinusoidal"; "attention"; "rnn"; "lstm"; "gru"
        "last"; "layerNorm"; "rmsNorm" ]
    |> List.distinct

/// Numbers that have broken compilers before: zero, the edges of int32, overflowing and denormal floats.
let private interestingNumbers =
    [ "0"; "1"; "2"; "3"; "4"; "7"; "16"; "0.0"; "0.5"; "1e-3"; "2.5E+4"; "00"; "007"; "-1"; "-0"; "-3"; "- 2"
      "2147483647"; "2147483648"; "-2147483648"; "4294967296"; "65536"; "99999999999999999999"; "1e308"; "1e309"
      "1e-308"; "1e-400"; "4.9e-324"; "1.7976931348623157e308"; "1e999999"; "(-2147483647 - 1)"; "(0 - 1)"; "1." ]

let private names =
    [ "x"; "y"; "z"; "h"; "w"; "b"; "M"; "N"; "Net"; "hidden"; "classes"; "units"; "act"; "k"; "f"; "seq"; "n"
      "a'"; "_x"; "int"; "float"; "bool"; "data"; "loss"; "optimizer"; "epochs"; "batch"; "lr"; "momentum"; "slope"
      "alpha"; "stride"; "padding"; "dilation"; "heads"; "p"; "std"; "undefinedName" ]

let private strings = [ "\"a\""; "\"\""; "\"\\q\""; "\"unterminated"; "\"a\\\"b\""; "\"tab\\tnewline\\n\""; "\"x.fnn\"" ]

/// Imports of real files (absolute, so that they do not depend on the working directory), of the input
/// itself, and of paths that are not files.
let private imports =
    let real =
        [ "dsl/examples/helpers.fnn"; "dsl/examples/classifier.fnn"; "dsl/examples/errors/shapes.fnn"; "examples/xor/xor.fnn" ]
        |> List.map (fun p -> Path.Combine(TestSupport.repoRoot, p))
        |> List.filter File.Exists
        |> List.map (fun p -> sprintf "import \"%s\"" (p.Replace("\\", "\\\\")))
    real @ [ "import \"prop.fnn\""; "import \"missing.fnn\""; "import \".\""; "import \"/\""; "import \"dsl\"" ]

let private comments = [ "// note"; "///"; "/// doc"; "////"; "(*"; "*)"; "(* c *)"; "(* (* *)" ]

let private oddCharacters =
    [ "#"; "."; "é"; "😀"; "\t"; "\r"; "\000"; "`"; "~"; "!"; "?"; "$"; "%"; "^"; "&"; "{"; "}"; "<"; ">"; "|"
      "\\"; "'"; "\u00a0"; "\ufeff"; "\ud800" ]

let private indentation = [ ""; " "; "  "; "    "; "     "; "        "; "            "; "\t"; "  \t" ]

let private vocabulary = keywords @ operators @ builtinNames @ interestingNumbers @ names @ strings @ comments @ imports

// ---------------------------------------------------------------------------------------------
// Generator 1: mutations of real programs

type private Mutation =
    | DeleteChars of at: float * count: int
    | DuplicateChars of at: float * count: int
    | SwapChars of at: float
    | InsertText of at: float * text: string
    | DeleteToken of at: float
    | DuplicateToken of at: float
    | SwapTokens of float * float
    | ReplaceToken of at: float * text: string
    | DeleteLine of at: float
    | DuplicateLine of at: float
    | SwapLines of float * float
    | SpliceLine of at: float * line: string
    | Reindent of at: float * indent: string
    | ReplaceNumber of at: float * number: string
    | Truncate of at: float
    | WindowsLineEnds

/// Identifiers, numbers, strings, comments, operators, whitespace, single characters.
let private tokenPattern =
    Regex(
        @"[A-Za-z_][A-Za-z0-9_']*|\d+(\.\d+)?([eE][+-]?\d+)?|""([^""\\\n]|\\.)*""?|//[^\n]*|\(\*|\*\)|>>|\|>|->|=>|\*\*|[ \t]+|\r?\n|.",
        RegexOptions.Compiled
    )

let private numberPattern = Regex(@"\d+(\.\d+)?([eE][+-]?\d+)?", RegexOptions.Compiled)

let private index (at: float) n = if n <= 0 then 0 else min (n - 1) (int (at * float n))

let private applyMutation (text: string) (m: Mutation) =
    let tokens () = [| for t in tokenPattern.Matches text -> t.Index, t.Length |]
    let lines () = text.Split('\n')
    let join (ls: string[]) = String.Join("\n", ls)
    match m with
    | DeleteChars(at, n) when text.Length > 0 ->
        let i = index at text.Length
        text.Remove(i, min n (text.Length - i))
    | DuplicateChars(at, n) when text.Length > 0 ->
        let i = index at text.Length
        text.Insert(i, text.Substring(i, min n (text.Length - i)))
    | SwapChars at when text.Length > 1 ->
        let i = index at (text.Length - 1)
        let cs = text.ToCharArray()
        let c = cs[i]
        cs[i] <- cs[i + 1]
        cs[i + 1] <- c
        System.String cs
    | InsertText(at, s) -> text.Insert(index at (text.Length + 1), s)
    | DeleteToken at ->
        match tokens () with
        | [||] -> text
        | ts ->
            let i, n = ts[index at ts.Length]
            text.Remove(i, n)
    | DuplicateToken at ->
        match tokens () with
        | [||] -> text
        | ts ->
            let i, n = ts[index at ts.Length]
            text.Insert(i, text.Substring(i, n))
    | SwapTokens(a, b) ->
        let ts = tokens ()
        if ts.Length < 2 then text
        else
            let (i, n), (j, m) =
                let x, y = ts[index a ts.Length], ts[index b ts.Length]
                if fst x <= fst y then x, y else y, x
            if i = j then text
            else text.Substring(0, i) + text.Substring(j, m) + text.Substring(i + n, j - i - n) + text.Substring(i, n) + text.Substring(j + m)
    | ReplaceToken(at, s) ->
        match tokens () with
        | [||] -> s
        | ts ->
            let i, n = ts[index at ts.Length]
            text.Remove(i, n).Insert(i, s)
    | DeleteLine at ->
        let ls = lines ()
        let i = index at ls.Length
        join (Array.append ls[.. i - 1] ls[i + 1 ..])
    | DuplicateLine at ->
        let ls = lines ()
        let i = index at ls.Length
        join (Array.concat [ ls[..i]; [| ls[i] |]; ls[i + 1 ..] ])
    | SwapLines(a, b) ->
        let ls = lines ()
        let i, j = index a ls.Length, index b ls.Length
        let t = ls[i]
        ls[i] <- ls[j]
        ls[j] <- t
        join ls
    | SpliceLine(at, line) ->
        let ls = lines ()
        let i = index at (ls.Length + 1)
        join (Array.concat [ ls[.. i - 1]; [| line |]; ls[i..] ])
    | Reindent(at, indent) ->
        let ls = lines ()
        let i = index at ls.Length
        ls[i] <- indent + ls[i].TrimStart(' ')
        join ls
    | ReplaceNumber(at, number) ->
        match [| for t in numberPattern.Matches text -> t.Index, t.Length |] with
        | [||] -> text
        | ns ->
            let i, n = ns[index at ns.Length]
            text.Remove(i, n).Insert(i, number)
    | Truncate at -> text.Substring(0, index at (text.Length + 1))
    | WindowsLineEnds -> text.Replace("\r\n", "\n").Replace("\n", "\r\n")
    | DeleteChars _
    | DuplicateChars _
    | SwapChars _ -> text

let private fraction = Gen.choose (0, 99999) |> Gen.map (fun i -> float i / 100000.0)

let private spaced (g: Gen<string>) =
    gen {
        let! s = g
        let! before = Gen.elements [ ""; " "; "\n"; "\n    " ]
        let! after = Gen.elements [ ""; " "; " "; "\n" ]
        return before + s + after
    }

let private mutationGen =
    Gen.frequency
        [ 3, Gen.map2 (fun a n -> DeleteChars(a, n)) fraction (Gen.choose (1, 3))
          2, Gen.map2 (fun a n -> DuplicateChars(a, n)) fraction (Gen.choose (1, 40))
          2, Gen.map SwapChars fraction
          2, Gen.map2 (fun a s -> InsertText(a, s)) fraction (Gen.elements oddCharacters)
          4, Gen.map2 (fun a s -> InsertText(a, s)) fraction (spaced (Gen.elements vocabulary))
          1, Gen.map2 (fun a s -> InsertText(a, s)) fraction (Gen.elements (List.map (fun i -> "\n" + i) indentation))
          3, Gen.map DeleteToken fraction
          2, Gen.map DuplicateToken fraction
          2, Gen.map2 (fun a b -> SwapTokens(a, b)) fraction fraction
          3, Gen.map2 (fun a s -> ReplaceToken(a, s)) fraction (Gen.elements vocabulary)
          2, Gen.map DeleteLine fraction
          2, Gen.map DuplicateLine fraction
          2, Gen.map2 (fun a b -> SwapLines(a, b)) fraction fraction
          2, Gen.map2 (fun a l -> SpliceLine(a, l)) fraction (Gen.elements corpusLines)
          2, Gen.map2 (fun a i -> Reindent(a, i)) fraction (Gen.elements indentation)
          3, Gen.map2 (fun a n -> ReplaceNumber(a, n)) fraction (Gen.elements interestingNumbers)
          1, Gen.map Truncate fraction
          1, Gen.constant WindowsLineEnds ]

/// A mutant and the name it is checked under (its original's).
let private mutantGen =
    Gen.sized (fun size ->
        gen {
            let! name, program = Gen.elements corpus
            let! count = Gen.choose (1, 1 + size / 12)
            let! mutations = Gen.listOfLength count mutationGen
            return name, List.fold applyMutation program mutations
        })

// ---------------------------------------------------------------------------------------------
// Generator 2: token soup

let private soupGen =
    Gen.sized (fun size ->
        gen {
            let token =
                Gen.frequency
                    [ 4, Gen.elements (keywords @ operators)
                      3, Gen.elements builtinNames
                      3, Gen.elements interestingNumbers
                      3, Gen.elements names
                      1, Gen.elements strings
                      1, Gen.elements comments
                      1, Gen.elements imports
                      1, Gen.elements oddCharacters ]
            let separator =
                Gen.frequency
                    [ 12, Gen.constant " "
                      3, Gen.constant ""
                      3, Gen.elements indentation |> Gen.map (fun i -> "\n" + i)
                      1, Gen.constant "\r\n    " ]
            let! n = Gen.choose (1, 4 + 2 * size)
            let! tokens = Gen.listOfLength n (Gen.zip separator token)
            let! prefix =
                Gen.elements
                    [ ""; ""; "let a = "; "model M : [2] -> [1] =\n    "; "model M (h = 2) : [2] -> [h] =\n    fun x -> "
                      "model M : [2] -> [1] =\n    param w : [2; 1] = "; "train M with\n    data = "
                      "model M : [1] -> [1] = dense 1\ntrain M with\n    " ]
            return prefix + (tokens |> List.map (fun (s, t) -> s + t) |> String.concat "")
        })

// ---------------------------------------------------------------------------------------------
// Generator 3: programs from a small grammar

let private activations =
    [ "relu"; "sigmoid"; "tanh"; "softmax"; "gelu"; "silu"; "identity"; "logSoftmax"; "elu"; "leakyRelu"
      "leakyRelu (slope = 0.2)"; "elu (alpha = 0.5)" ]

let private optionNames =
    [ "stride"; "padding"; "dilation"; "heads"; "slope"; "alpha"; "lr"; "momentum"; "p"; "std"; "units"; "k"; "act"
      "hidden"; "eps"; "bias"; "axis"; "causal"; "layers"; "bidirectional"; "kernel"; "rate"; "dim"; "vocab" ]

/// Random expressions of every form, of at most `depth` levels.
let rec private exprGen (depth: int) : Gen<string> =
    let atom =
        Gen.frequency
            [ 4, Gen.elements interestingNumbers
              4, Gen.elements [ "x"; "h"; "w"; "b"; "hidden"; "k"; "undefinedName"; "seq" ]
              4, Gen.elements builtinNames
              1, Gen.elements strings
              1, Gen.elements [ "true"; "false"; "[]"; "[1; 2]"; "[[1; 2]; [3; 4]]"; "[0; 1] => [1]" ] ]
    if depth <= 0 then
        atom
    else
        let sub = exprGen (depth - 1)
        let argument =
            Gen.frequency
                [ 4, atom
                  2, sub |> Gen.map (sprintf "(%s)")
                  2, Gen.map2 (sprintf "(%s = %s)") (Gen.elements optionNames) sub ]
        Gen.frequency
            [ 3, atom
              4, Gen.map2 (fun f args -> f + " " + String.concat " " args) (Gen.elements builtinNames) (Gen.listOfLength 2 argument |> Gen.map (List.truncate 3))
              3, Gen.map2 (fun f args -> f + " " + String.concat " " args) (Gen.elements builtinNames) (Gen.choose (1, 3) |> Gen.bind (fun n -> Gen.listOfLength n argument))
              3, Gen.map3 (sprintf "%s %s %s") sub (Gen.elements [ "+"; "-"; "*"; "/"; "**"; "@" ]) sub
              3, Gen.map2 (sprintf "%s >> %s") sub sub
              2, Gen.map2 (sprintf "%s |> %s") sub sub
              1, sub |> Gen.map (sprintf "(fun x -> %s)")
              1, Gen.map2 (sprintf "(%s) as %s") sub (Gen.elements [ "a"; "b"; "out" ])
              1, sub |> Gen.map (sprintf "-%s")
              1, sub |> Gen.map (sprintf "- %s")
              1, Gen.map2 (sprintf "[%s; %s]") sub sub
              1, Gen.map2 (sprintf "(%s => %s)") sub sub ]

/// A dimension: mostly small numbers, sometimes a hyperparameter, a symbol, or something wrong.
let private dimGen =
    Gen.frequency
        [ 10, Gen.choose (1, 8) |> Gen.map string
          3, Gen.elements [ "hidden"; "h"; "2 * h"; "h + 1"; "classes" ]
          2, Gen.elements [ "seq"; "n" ]
          1, Gen.elements [ "0"; "-1"; "(-3)"; "2147483647"; "65536 * 65536"; "0.5"; "\"a\""; "relu"; "true"; "h / 0" ] ]

let private shapeGen =
    gen {
        let! rank = Gen.frequency [ 1, Gen.constant 0; 6, Gen.constant 1; 3, Gen.constant 2; 2, Gen.constant 3 ]
        let! dims = Gen.listOfLength rank dimGen
        let! element = Gen.frequency [ 12, Gen.constant ""; 2, Gen.constant " int"; 1, Gen.constant " float"; 1, Gen.constant " bogus" ]
        return sprintf "[%s]%s" (String.concat "; " dims) element
    }

/// A chain step: dense, an activation, a builtin applied to random arguments, a helper, a lambda.
let private stepGen =
    let argument =
        Gen.frequency
            [ 6, Gen.choose (1, 8) |> Gen.map string
              2, Gen.elements interestingNumbers |> Gen.map (fun n -> if n.StartsWith "-" then sprintf "(%s)" n else n)
              2, Gen.map2 (sprintf "(%s = %s)") (Gen.elements optionNames) (Gen.elements [ "1"; "2"; "0"; "-1"; "0.5"; "relu"; "true" ])
              1, Gen.elements [ "h"; "hidden"; "relu"; "[2; 2]"; "\"s\"" ] ]
    Gen.frequency
        [ 8, dimGen |> Gen.map (fun d -> if d.Contains " " then sprintf "dense (%s)" d else "dense " + d)
          6, Gen.elements activations
          4,
          gen {
              let! f = Gen.elements builtinNames
              let! n = Gen.choose (0, 3)
              let! args = Gen.listOfLength n argument
              return String.concat " " (f :: args)
          }
          2, Gen.elements [ "block 4"; "block 2 (act = tanh)"; "scale (k = 2)"; "residual relu"; "twice relu"; "block" ]
          2, exprGen 2 |> Gen.map (sprintf "(fun x -> %s)")
          1, exprGen 2 |> Gen.map (sprintf "(%s)") ]

let private helpers =
    "let block (units: int) (act = relu) = dense units >> act
let residual f = fun x -> x + f x
let scale (k = 0.5) x = x * k
let twice f = fun x -> f (f x)
"

let private trainGen (modelName: string) =
    gen {
        let! data =
            Gen.elements
                [ "[ [0; 1] => [1] ]"; "[ [1; 2] => [2; 4]; [3; 4] => [6; 8] ]"; "[]"; "points"; "[ 1 => 2 ]"; "3"
                  "[ [[1; 2]; [3]] => [1] ]"; "[ [0.5; -0.5] => [1; 0; 0] ]" ]
        let! settings =
            Gen.subListOf
                [ "    data = " + data
                  "    loss = mse"
                  "    loss = crossEntropy"
                  "    loss = relu"
                  "    optimizer = sgd (lr = 0.5)"
                  "    optimizer = adam"
                  "    optimizer = sgd (lr = 0)"
                  "    optimizer = adam (momentum = 0.9) (lr = -1)"
                  "    epochs = 10"
                  "    epochs = 0"
                  "    batch = 2"
                  "    batch = 2147483647"
                  "    batches = 3" ]
        let! shuffled = Gen.shuffle settings
        return sprintf "train %s with\n%s\n" modelName (String.concat "\n" shuffled)
    }

/// A model with random hyperparameters, shapes, params and body: often wrong, sometimes right.
let private randomModelGen (name: string) =
    gen {
        let! hypers =
            Gen.subListOf [ "hidden = 4"; "h = 2"; "(classes: int = 3)"; "rate: float = 0.5"; "bad: nat = 1"; "missing"; "h2 = undefinedName" ]
        let! input = shapeGen
        let! output = shapeGen
        let! parameters =
            Gen.subListOf
                [ "    param w : [2; 4] = xavier"
                  "    param b : [4] = zeros"
                  "    param v : [hidden; 1] = normal 0.1"
                  "    param u : [3] = he"
                  "    param z : [0] = uniform 1 -1"
                  "    param w : [1] = ones" ]
        let! lets = Gen.subListOf [ "    let t = dense 3 >> relu"; "    let q = 2"; "    let bad = 1 / 0" ]
        let! steps = Gen.choose (1, 5) |> Gen.bind (fun n -> Gen.listOfLength n stepGen)
        let! layout = Gen.choose (0, 2)
        let! body =
            Gen.frequency
                [ 6,
                  Gen.constant (
                      match layout with
                      | 0 -> "    " + String.concat " >> " steps
                      | 1 -> "    " + String.concat "\n    >> " steps
                      | _ -> "    fun x -> x |> " + String.concat " |> " steps
                  )
                  2, exprGen 3 |> Gen.map (sprintf "    fun x -> %s")
                  1, exprGen 3 |> Gen.map (sprintf "    %s") ]
        let hyperText = if hypers.IsEmpty then "" else sprintf " (%s)" (String.concat ", " hypers)
        let! doc = Gen.elements [ ""; "/// A generated model.\n"; "// a comment\n" ]
        let lines = List.concat [ parameters; lets; [ body ] ]
        return sprintf "%smodel %s%s : %s -> %s =\n%s\n" doc name hyperText input output (String.concat "\n" lines)
    }

let private programGen =
    Gen.sized (fun size ->
        gen {
            let! withHelpers = Gen.frequency [ 3, Gen.constant true; 1, Gen.constant false ]
            let! count = Gen.choose (1, 1 + size / 40)
            let! models = Gen.listOfLength count (Gen.elements [ "M"; "N"; "M" ] |> Gen.bind randomModelGen)
            let! lets = Gen.listOf (exprGen 2 |> Gen.map (sprintf "let value = %s\n")) |> Gen.map (List.truncate 3)
            let! trains = Gen.subListOf [ "M"; "N"; "Missing" ] |> Gen.bind (fun ms -> ms |> List.map trainGen |> Gen.sequenceToList)
            let! points = Gen.elements [ ""; "let points = [ [1; 2] => [3] ]\n" ]
            let text =
                (if withHelpers then helpers else "") + points + String.concat "" lets + String.concat "\n" models + "\n"
                + String.concat "\n" trains
            return text
        })

// ---------------------------------------------------------------------------------------------
// Generator 4: stacks of layers for images, signals, sequences and token ids, with small random sizes and
// now and then a wrong one, so that every layer's shape inference runs on shapes it accepts and on
// shapes it does not.

let private layerStackGen =
    let size = Gen.frequency [ 12, Gen.choose (1, 8) |> Gen.map string; 1, Gen.elements [ "0"; "(-1)"; "2147483647"; "65536"; "33"; "2.5" ] ]
    let small = Gen.frequency [ 8, Gen.choose (0, 3) |> Gen.map string; 1, Gen.elements [ "(-1)"; "2147483647"; "1073741824"; "true" ] ]
    let options names =
        Gen.subListOf names
        |> Gen.bind (fun chosen -> chosen |> List.map (fun n -> small |> Gen.map (sprintf "(%s = %s)" n)) |> Gen.sequenceToList)
        |> Gen.map (fun os -> if os.IsEmpty then "" else " " + String.concat " " os)
    let rec step depth : Gen<string> =
        let inner = if depth <= 0 then Gen.elements [ "relu"; "dense 4"; "layerNorm"; "identity" ] else step (depth - 1)
        Gen.frequency
            [ 3, Gen.map3 (fun o k opts -> sprintf "conv2d %s %s%s" o k opts) size size (options [ "stride"; "padding"; "dilation" ])
              2, Gen.map3 (fun o k opts -> sprintf "conv1d %s %s%s" o k opts) size size (options [ "stride"; "padding"; "dilation" ])
              2, Gen.map2 (fun k opts -> sprintf "maxPool2d %s%s" k opts) size (options [ "stride"; "padding" ])
              2, Gen.map2 (fun k opts -> sprintf "avgPool2d %s%s" k opts) size (options [ "stride"; "padding" ])
              2, Gen.constant "flatten"
              2, Gen.listOf size |> Gen.map (List.truncate 3) |> Gen.map (fun ds -> sprintf "reshape [%s]" (String.concat "; " ds))
              1, Gen.elements [ "reshape [-1]"; "reshape [-1; 4]"; "reshape [2; -1]"; "reshape [-1; -1]"; "reshape 3" ]
              1, Gen.elements [ "dropout 0.1"; "dropout 0"; "dropout 1"; "dropout (-0.5)" ]
              2, Gen.elements [ "batchNorm"; "layerNorm"; "rmsNorm"; "last"; "flatten" ]
              2, Gen.map2 (sprintf "embed %s %s") size size
              1, Gen.map (sprintf "positional %s") size
              1, Gen.map (sprintf "sinusoidal %s") size
              2, Gen.map2 (fun h opts -> sprintf "attention %s%s" h opts) size (options [ "causal" ])
              2,
              Gen.map3 (fun cell h opts -> sprintf "%s %s%s" cell h opts) (Gen.elements [ "rnn"; "lstm"; "gru" ]) size (options [ "layers"; "bidirectional" ])
              3, Gen.map (sprintf "dense %s") size
              3, Gen.elements activations
              1, inner |> Gen.map (sprintf "residual (%s)")
              1, Gen.map2 (sprintf "repeat %s (%s)") (Gen.elements [ "0"; "1"; "2"; "3"; "(-1)" ]) inner
              1, Gen.map2 (sprintf "concat [%s; %s]") inner inner
              1, Gen.map2 (sprintf "sequential [%s; %s]") inner inner
              1, Gen.elements [ "concat []"; "sequential []"; "residual 3"; "repeat 2 3" ]
              2,
              Gen.elements
                  [ "(fun x -> sum x)"; "(fun x -> mean x (axis = 0))"; "(fun x -> max x (axis = -1))"; "(fun x -> min x (axis = 5))"
                    "(fun x -> transpose x)"; "(fun x -> x @ transpose x)"; "(fun x -> x + sum x (axis = 1))"; "(fun x -> transpose (sum x))" ] ]
    gen {
        let! input =
            Gen.oneof
                [ Gen.map3 (sprintf "[%s; %s; %s]") size size size // channels, height, width
                  Gen.map2 (sprintf "[%s; %s]") size size // channels, length or positions, features
                  Gen.map (sprintf "[seq; %s]") size
                  Gen.map (sprintf "[%s] int") size
                  Gen.constant "[seq] int"
                  Gen.map (sprintf "[%s]") size ]
        let! output = Gen.elements [ "[1]"; "[4]"; "[seq; 4]"; "[2; 2]"; "[]"; "[n]" ]
        let! steps = Gen.choose (1, 6) |> Gen.bind (fun n -> Gen.listOfLength n (step 2))
        // half the stacks end in flatten >> dense 4 : [4], so that those whose steps fit check Ok
        let! ending = Gen.elements [ None; Some "flatten >> dense 4" ]
        let! train = Gen.elements [ ""; "\ntrain M with\n    data = [ [1; 2] => [1] ]\n" ]
        let steps, output =
            match ending with
            | Some last -> steps @ [ last ], "[4]"
            | None -> steps, output
        return sprintf "model M : %s -> %s =\n    %s\n%s" input output (String.concat "\n    >> " steps) train
    }

/// Stacks that follow the shape along (images: convolutions and pooling that fit; sequences: attention
/// with a dividing head count, recurrent layers, norms; token ids: an embedding first), so that most of
/// them check Ok and the layers' success paths run too. What they must give is not asserted: the general
/// invariants are.
let private fittingStackGen =
    let image =
        gen {
            let! c = Gen.choose (1, 4)
            let! h = Gen.choose (1, 12)
            let! w = Gen.choose (1, 12)
            let! n = Gen.choose (1, 5)
            let! choices = Gen.listOfLength n (Gen.zip3 (Gen.choose (0, 5)) (Gen.choose (1, 3)) (Gen.choose (1, 6)))
            let steps, _ =
                choices
                |> List.fold
                    (fun (acc, (c, h, w)) (kind, k, o) ->
                        match kind with
                        | 0 when k <= h && k <= w -> acc @ [ sprintf "conv2d %d %d" o k ], (o, h - k + 1, w - k + 1)
                        | 1 -> acc @ [ sprintf "conv2d %d %d (padding = %d)" o (2 * (k / 2) + 1) (k / 2) ], (o, h, w)
                        | 2 when k <= h && k <= w -> acc @ [ sprintf "maxPool2d %d" k ], (c, (h - k) / k + 1, (w - k) / k + 1)
                        | 3 when k <= h && k <= w -> acc @ [ sprintf "avgPool2d %d (stride = 1)" k ], (c, h - k + 1, w - k + 1)
                        | 4 -> acc @ [ "batchNorm" ], (c, h, w)
                        | _ -> acc @ [ "relu" ], (c, h, w))
                    ([], (c, h, w))
            return sprintf "[%d; %d; %d]" c h w, steps @ [ "flatten"; "dense 4" ], "[4]"
        }
    let sequence (tokens: bool) =
        gen {
            let! length = Gen.elements [ "8"; "seq" ]
            let! d = Gen.elements [ 2; 4; 6; 8; 12 ]
            let! n = Gen.choose (1, 5)
            let! choices = Gen.listOfLength n (Gen.zip (Gen.choose (0, 6)) (Gen.elements [ 1; 2; 3; 4 ]))
            let input, first = if tokens then sprintf "[%s] int" length, [ sprintf "embed 50 %d" d ] else sprintf "[%s; %d]" length d, []
            let steps, d =
                choices
                |> List.fold
                    (fun (acc, d) (kind, k) ->
                        match kind with
                        | 0 when d % k = 0 -> acc @ [ sprintf "attention %d" k ], d
                        | 1 -> acc @ [ sprintf "attention 1 (causal = true)" ], d
                        | 2 -> acc @ [ "layerNorm" ], d
                        | 3 -> acc @ [ "rmsNorm" ], d
                        | 4 -> acc @ [ sprintf "%s %d" (if k % 2 = 0 then "lstm" else "gru") (2 * k) ], 2 * k
                        | 5 when length = "8" -> acc @ [ (if k % 2 = 0 then "positional 8" else "sinusoidal 16") ], d
                        | _ -> acc @ [ sprintf "dense %d" (2 * k) ], 2 * k)
                    (first, d)
            let! read = Gen.elements [ true; false ]
            if read then return input, steps @ [ "last"; "dense 3" ], "[3]"
            else return input, steps @ [ "dense 3" ], sprintf "[%s; 3]" length
        }
    gen {
        let! input, steps, output = Gen.oneof [ image; sequence false; sequence true ]
        let! layout = Gen.elements [ " >> "; "\n    >> " ]
        return sprintf "model M : %s -> %s =\n    %s\n" input output (String.concat layout steps)
    }

// ---------------------------------------------------------------------------------------------
// Generator 5: programs that are valid by construction (and their twins with a wrong declared output)

type private ValidModel =
    { Text: string
      /// The same program with a declared output the body does not produce.
      WrongOutput: string }

/// A nested list literal of the given dimensions (all ones: the values do not matter to the checker).
let rec private tensorLiteral (dims: int list) =
    match dims with
    | [] -> "1"
    | d :: rest -> "[" + String.concat "; " (List.replicate d (tensorLiteral rest)) + "]"

let private validModelGen =
    gen {
        let! leading = Gen.listOf (Gen.choose (1, 3)) |> Gen.map (List.truncate 2) // extra leading dimensions
        let! inputSize = Gen.choose (1, 6)
        let! outputSize = Gen.choose (1, 6)
        let! wrong = Gen.choose (1, 6) |> Gen.map (fun w -> if w = outputSize then outputSize + 1 else w)
        let! widths = Gen.listOf (Gen.choose (1, 16)) |> Gen.map (List.truncate 6)
        let! acts = Gen.listOfLength (widths.Length + 1) (Gen.frequency [ 3, Gen.constant ""; 4, Gen.elements activations ])
        let! useHyper = Gen.elements [ true; false ]
        let! form = Gen.choose (0, 5)
        let! labelled = Gen.elements [ true; false ]
        let! withTrain = Gen.elements [ true; false ]
        let! doc = Gen.elements [ ""; "/// Generated.\n"; "// generated\n(* a comment *)\n" ]
        // crossEntropy needs two or more outputs (one class is always right: its loss is 0), so not with one.
        let! loss = Gen.elements (if outputSize = 1 then [ "mse"; "bce"; "l1" ] else [ "mse"; "bce"; "crossEntropy"; "l1" ])
        let! optimizer = Gen.elements [ "sgd"; "adam"; "sgd (lr = 0.5)"; "adam (lr = 0.01)"; "sgd (lr = 0.1) (momentum = 0.9)" ]
        let! epochs = Gen.choose (1, 5000)
        let! batch = Gen.elements [ ""; "    batch = 1\n"; "    batch = 4\n" ]
        let dims (last: string) = "[" + String.concat "; " (List.map string leading @ [ last ]) + "]"
        let outName = if useHyper then "out" else string outputSize
        let hypers =
            if useHyper then sprintf " (out = %d, hidden = %d)" outputSize (defaultArg (List.tryHead widths) 4) else ""
        let step i width act =
            let width = if useHyper && i = 0 && not widths.IsEmpty then "hidden" else string width
            let dense = if labelled then sprintf "dense %s as d%d" width i else sprintf "dense %s" width
            if act = "" then [ dense ] else [ dense; act ]
        let chainSteps =
            (List.mapi (fun i (w, a) -> step i w a) (List.zip widths (List.take widths.Length acts)) |> List.concat)
            @ (let last = sprintf "dense %s" outName
               let last = if labelled then last + " as final" else last
               if List.last acts = "" then [ last ] else [ last; List.last acts ])
        let body =
            match form with
            | 0 -> "    " + String.concat " >> " chainSteps
            | 1 -> "    " + String.concat "\n    >> " chainSteps
            | 2 -> "    fun x -> x |> " + String.concat " |> " chainSteps
            | 3 ->
                // a local let holding the first part of the chain
                match chainSteps with
                | [ only ] -> "    let h = " + only + "\n    h"
                | first :: rest -> "    let h = " + first + "\n    h >> " + String.concat " >> " rest
                | [] -> "    identity"
            | 4 ->
                // by hand: a matrix and a bias
                sprintf
                    "    param w : [%d; %s] = xavier\n    param b : [%s] = zeros\n    fun x ->\n        let y = x @ w + b\n        %s"
                    inputSize
                    outName
                    outName
                    (if List.last acts = "" then "y" else sprintf "y |> %s" (List.last acts))
            | _ ->
                // a helper with a typed parameter and an option
                let widthsText = widths |> List.map (fun w -> sprintf "block %d" w)
                "    " + String.concat " >> " (widthsText @ [ sprintf "block %s (act = identity)" outName ])
        let helper = if form = 5 then "let block (units: int) (act = relu) = dense units >> act\n" else ""
        let model (declared: string) =
            sprintf "%s%smodel M%s : %s -> %s =\n%s\n" helper doc hypers (dims (string inputSize)) (dims declared) body
        let train =
            if withTrain then
                let example = sprintf "%s => %s" (tensorLiteral (leading @ [ inputSize ])) (tensorLiteral (leading @ [ outputSize ]))
                sprintf "\ntrain M with\n    data = [ %s; %s ]\n    loss = %s\n    optimizer = %s\n    epochs = %d\n%s" example example loss optimizer epochs batch
            else ""
        return
            { Text = model outName + train
              WrongOutput = model (string wrong) }
    }

let private validArb =
    Arb.fromGen validModelGen

// ---------------------------------------------------------------------------------------------
// Inputs run in a child process: a stack overflow cannot be caught and would end the whole test run, and
// a runaway check is killed there.

type private Isolated =
    { Kind: string
      Name: string
      Make: unit -> string
      Limit: TimeSpan }

let private isolatedInputs =
    // Hang guards, as timeLimit is: a regression to the old behaviour takes hours or more memory than the
    // child is given, whatever the machine's load.
    let generous = TimeSpan.FromSeconds 120.0
    [ { Kind = "plus"
        Name = "10000 terms of '+' in a let do not overflow the checker's stack"
        Make = fun () -> "let a = " + String.replicate 10000 "1 + " + "1\n"
        Limit = generous }
      { Kind = "pipe"
        Name = "10000 '|>' in a fun body do not overflow the checker's stack"
        Make = fun () -> "model M : [1] -> [1] =\n    fun x -> x" + String.replicate 10000 " |> relu" + "\n"
        Limit = generous }
      { Kind = "lets"
        Name = "10000 local lets in one block do not overflow the checker's stack"
        Make = fun () -> "let a =\n" + String.replicate 10000 "    let b = 1\n" + "    b\n"
        Limit = generous }
      { Kind = "chain"
        Name = "100000 '>>' steps do not overflow the checker's stack"
        Make = fun () -> "model M : [1] -> [1] =\n    " + String.replicate 100000 "relu >> " + "relu\n"
        Limit = generous }
      { Kind = "repeat"
        Name = "repeat 100000 relu does not overflow the checker's stack"
        Make = fun () -> "model M : [1] -> [1] = repeat 100000 relu\n"
        Limit = generous }
      { Kind = "repeat-nested"
        Name = "repeat 1000 (repeat 1000 (repeat 1000 relu)), a billion layers, is refused, not built"
        Make = fun () -> "model M : [1] -> [1] = repeat 1000 (repeat 1000 (repeat 1000 relu))\n"
        Limit = generous }
      { Kind = "long-names"
        Name = "'did you mean' on two names of 20000 characters fits in the child's 512 MB (it was quadratic: 10s and 1.6 GB)"
        Make = fun () -> "let " + System.String('a', 20000) + " = 1\nlet b = " + System.String('b', 20000) + "\n"
        Limit = generous }
      // A device file exists, so the import used to read it forever: 4.5 GB and 9s, then an
      // OutOfMemoryException (the child's heap is capped at 512 MB, so a regression fails fast and small).
      // Where there is no /dev/zero, the import is simply an error.
      { Kind = "dev-zero"
        Name = "import \"/dev/zero\" is refused, not read forever"
        Make = fun () -> "import \"/dev/zero\"\n"
        Limit = generous } ]

let private probeVariable = "FNN_ISOLATED_PROBE"
let private probeName = "isolated-input probe"

/// A stack of 1 MB, the default on Windows (Linux gives new threads 8 MB and the thread pool 1.5 MB), so
/// that a recursion as deep as the input fails the same way everywhere.
let private probeStack = 1024 * 1024

/// In the child process: checks the inputs named in the environment one after another, each on a thread
/// with a 1 MB stack, and says how far it got with each (stdout is flushed at every line, so what was
/// said survives a crash).
let private probeTests =
    match environmentValue probeVariable with
    | None -> []
    | Some kinds ->
        [ testCase probeName <| fun () ->
              for kind in kinds.Split(',') do
                  let text = (isolatedInputs |> List.find (fun i -> i.Kind = kind)).Make()
                  let say (line: string) =
                      Console.Out.WriteLine(sprintf "PROBE %s %s" kind line)
                      Console.Out.Flush()
                  let run () =
                      say "started"
                      let _, ds = Parser.parse file text
                      say (sprintf "parsed: %d diagnostics" ds.Length)
                      let clock = Stopwatch.StartNew()
                      let result = Language.check file text
                      say (sprintf "took %d ms" clock.ElapsedMilliseconds)
                      match result with
                      | Ok _ -> say "checked: Ok"
                      | Error ds -> say (sprintf "checked: %d diagnostics, the first: %s" ds.Length (List.head ds).Message)
                  let thread = Thread(run, probeStack)
                  thread.Start()
                  thread.Join() ]

type private IsolatedOutcome =
    | Finished of milliseconds: int * output: string
    | Crashed of output: string
    | TimedOut of output: string

/// Runs this test binary again with only the probe, for `kinds`; kills it when one input runs past its
/// limit. Returns the output lines and the input it was killed on, if any.
let private runChild (kinds: Isolated list) =
    let assembly = Reflection.Assembly.GetExecutingAssembly().Location
    let host = Environment.ProcessPath
    let start = ProcessStartInfo(host)
    if Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase) then
        start.ArgumentList.Add assembly
    for a in [ "--sequenced"; "--no-spinner"; "--colours"; "0"; "--filter-test-case"; probeName ] do
        start.ArgumentList.Add a
    start.Environment[probeVariable] <- kinds |> List.map (fun k -> k.Kind) |> String.concat ","
    // a runaway input fails fast and small instead of taking the machine's memory
    start.Environment["DOTNET_GCHeapHardLimit"] <- "0x20000000"
    start.RedirectStandardOutput <- true
    start.RedirectStandardError <- true
    let lines = ResizeArray<string>()
    use p = new Process(StartInfo = start)
    let add (e: DataReceivedEventArgs) = if not (isNull e.Data) then lock lines (fun () -> lines.Add e.Data)
    p.OutputDataReceived.Add add
    p.ErrorDataReceived.Add add
    p.Start() |> ignore
    p.BeginOutputReadLine()
    p.BeginErrorReadLine()
    let clock = Stopwatch.StartNew()
    let startedAt = Collections.Generic.Dictionary<string, TimeSpan>()
    let mutable killedOn = None
    while killedOn.IsNone && not (p.WaitForExit 50) do
        let said = lock lines (fun () -> String.Join("\n", lines))
        let running =
            kinds |> List.tryFind (fun k -> said.Contains(sprintf "PROBE %s started" k.Kind) && not (said.Contains(sprintf "PROBE %s checked" k.Kind)))
        match running with
        | Some k ->
            if not (startedAt.ContainsKey k.Kind) then startedAt[k.Kind] <- clock.Elapsed
            if clock.Elapsed - startedAt[k.Kind] > k.Limit + TimeSpan.FromSeconds 2.0 then
                p.Kill true
                killedOn <- Some k.Kind
        | None ->
            if clock.Elapsed > TimeSpan.FromSeconds 600.0 then
                p.Kill true
                killedOn <- Some "the child's start-up"
    p.WaitForExit()
    lock lines (fun () -> List.ofSeq lines), killedOn

/// Every isolated input's outcome, from as few child processes as possible: when one crashes or hangs,
/// the next child goes on with the inputs after it.
let private isolatedOutcomes =
    lazy
        (let outcomes = Collections.Generic.Dictionary<string, IsolatedOutcome>()
         let mutable remaining = isolatedInputs
         while not remaining.IsEmpty do
             let lines, killedOn = runChild remaining
             // what the child said about `k`, and whatever else it said (a crash), without stack frames
             let outputFor (k: Isolated) =
                 lines
                 |> List.filter (fun l ->
                     not (l.StartsWith "   at ") && not (l.Contains "EXPECTO")
                     && (l.Contains(sprintf "PROBE %s " k.Kind) || not (l.Contains "PROBE ")))
                 |> List.truncate 40
                 |> List.map (fun l -> l.Replace("\u001b[0m", ""))
                 |> String.concat "\n"
             // Expecto writes colour resets even with --colours 0, so lines are searched, not matched at their start
             let said (k: Isolated) what = lines |> List.tryFind (fun l -> l.Contains(sprintf "PROBE %s %s" k.Kind what))
             for k in remaining do
                 match said k "checked", said k "took" with
                 | Some _, Some took ->
                     outcomes[k.Kind] <- Finished(int (Regex.Match(took, @"took (\d+) ms").Groups[1].Value), outputFor k)
                 | _ -> ()
             match remaining |> List.filter (fun k -> not (outcomes.ContainsKey k.Kind)) with
             | [] -> remaining <- []
             | culprit :: rest ->
                 if (said culprit "started").IsNone then
                     // the child failed before it reached this input: nothing more to learn from more children
                     for k in culprit :: rest do
                         outcomes[k.Kind] <- Crashed(sprintf "the child process ended before checking this input:\n%s" (outputFor k))
                     remaining <- []
                 else
                     let output = outputFor culprit
                     outcomes[culprit.Kind] <- (if killedOn = Some culprit.Kind then TimedOut output else Crashed output)
                     remaining <- rest
         outcomes)

let private isolatedTest (input: Isolated) =
    testCase input.Name <| fun () ->
        match isolatedOutcomes.Force()[input.Kind] with
        | Finished(ms, _) when float ms <= input.Limit.TotalMilliseconds -> ()
        | Finished(ms, output) -> failtestf "checking the input took %d ms, more than %gs:\n%s" ms input.Limit.TotalSeconds output
        | TimedOut output -> failtestf "checking the input did not finish within %gs:\n%s" input.Limit.TotalSeconds output
        | Crashed output -> failtestf "checking the input ended the process instead of returning a result:\n%s" output

// ---------------------------------------------------------------------------------------------
// Regressions: inputs that broke the promise once (minimised)

/// Fails unless `check` returns without throwing, with an error whose message holds `phrase`.
let private expectError (text: string) (phrase: string) =
    let observed = observe text
    if not observed.Problems.IsEmpty then failtest (describeFailure text observed.Problems)
    match observed.Check with
    | Ok _ -> failtestf "expected an error mentioning '%s' for %s, but it checked Ok" phrase (literal text)
    | Error ds ->
        if not (ds |> List.exists (fun d -> d.Message.Contains phrase)) then
            failtestf "expected an error mentioning '%s' for %s, got:\n%s" phrase (literal text) (Language.render file text ds)

let private regressions =
    [ testCase "(-2147483647 - 1) ** 2 is too large, not an OverflowException (abs Int32.MinValue)" <| fun () ->
          expectError "let a = (-2147483647 - 1) ** 2\n" "too large"

      testCase "-(-2147483647 - 1) is too large, not -2147483648 (no wrap-around)" <| fun () ->
          expectError "let a = -(-2147483647 - 1)\n" "too large"

      testCase "import \"\" is an error, not an ArgumentException, when the file name has no folder" <| fun () ->
          expectError "import \"\"\n" "import"

      testCase "concat [dense 2147483647; dense 1] is too large, not an OverflowException (List.sumBy)" <| fun () ->
          expectError "model M : [1] -> [1] = concat [dense 2147483647; dense 1]\n" "too large"

      testCase "odd texts" <| fun () ->
          for text in
              [ null; ""; "\n"; "\r\n"; "\000"; "\ufeff"; "\ud800"; "😀"; "(*"; "*)"; "\""; "///"; "let"; "model"; "train"
                "import"; "param"; "fun"; "as"; "with"; "="; "=>"; "->"; ")"; "]"; "model M"; "model M :"; "model M : [] -> [] ="
                "model M : [1] -> [1] ="; "train M with"; "let a ="; "let a = fun"; "let f x ="; "\t"; "  let a = 1" ] do
              match (observe text).Problems with
              | [] -> ()
              | problems -> failtest (describeFailure text problems)

      testCase "numbers at the edges" <| fun () ->
          for n in interestingNumbers do
              for template in
                  [ "let a = %s\n"
                    "let a = %s * %s\n"
                    "let a = %s ** %s\n"
                    "let a = %s / %s\n"
                    "let a = %s - %s\n"
                    "let a = 2 ** %s\n"
                    "let a = %s ** 64\n"
                    "let a = -%s\n"
                    "let a = sqrt %s + log %s + exp %s\n"
                    "model M : [%s] -> [1] = dense 1\n"
                    "model M : [1] -> [1] = dense %s\n"
                    "model M : [2] -> [1] =\n    param w : [2; %s] = normal %s\n    fun x -> x @ w\n"
                    "model M : [2] -> [1] = dense 1\ntrain M with\n    data = [ [1; 2] => [%s] ]\n    epochs = %s\n    batch = %s\n"
                    "model M : [2] -> [1] = dense 1\ntrain M with\n    data = [ [1; 2] => [1] ]\n    optimizer = sgd (lr = %s) (momentum = %s)\n"
                    "model M : [1] -> [1] = repeat %s relu\n"
                    "model M : [1] -> [2] = concat [dense %s; dense %s]\n"
                    "model M : [3; 8; 8] -> [4] = conv2d %s %s (stride = %s) (padding = %s) (dilation = %s) >> flatten >> dense 4\n"
                    "model M : [3; 8] -> [4] = conv1d %s %s >> flatten >> dense 4\n"
                    "model M : [3; 8; 8] -> [4] = maxPool2d %s (stride = %s) >> avgPool2d %s >> flatten >> dense 4\n"
                    "model M : [6; 4] -> [4] = reshape [%s; -1] >> reshape [%s] >> flatten >> dense 4\n"
                    "model M : [8] int -> [8; 4] = embed %s %s >> positional %s >> sinusoidal %s >> attention %s >> dense 4\n"
                    "model M : [seq; 4] -> [4] = lstm %s (layers = %s) (bidirectional = true) >> gru %s >> rnn %s >> last >> dense 4\n"
                    "model M : [4] -> [4] = dropout %s >> leakyRelu (slope = %s) >> elu (alpha = %s)\n"
                    "model M : [4] -> [4] = fun x -> sum x (axis = %s) + mean x (axis = %s) + x\n" ] do
                  let text = template.Replace("%s", n)
                  match unknownProblems (observe text).Problems with
                  | [] -> ()
                  | problems -> failtest (describeFailure text problems) ]

// ---------------------------------------------------------------------------------------------
// How much of the checker the generators reach (so that they do not silently degrade into parse errors)

let private reach (g: Gen<string>) n =
    let texts = Gen.sampleWithSeed (Rnd(seed, gamma)) 50 n g
    let parsed = texts |> Array.filter (fun t -> (snd (Parser.parse file t)).IsEmpty) |> Array.length
    let ok = texts |> Array.filter (fun t -> Result.isOk (Language.check file t)) |> Array.length
    parsed, ok

let private coverageTests =
    [ testCase "the generators reach the checker" <| fun () ->
          let n = 200
          let mParsed, _ = reach (Gen.map snd mutantGen) n
          let pParsed, _ = reach programGen n
          let sParsed, sOk = reach (Gen.oneof [ layerStackGen; fittingStackGen ]) n
          let vParsed, vOk = reach (validModelGen |> Gen.map (fun v -> v.Text)) n
          printfn
              "Properties: of %d samples, mutants parse %d, grammar programs parse %d, layer stacks parse %d (%d check), valid programs parse %d (%d check)"
              n mParsed pParsed sParsed sOk vParsed vOk
          Expect.isGreaterThan mParsed (n / 10) "some mutants parse and so reach the checker"
          Expect.isGreaterThan pParsed (n / 3) "most grammar programs parse and so reach the checker"
          Expect.isGreaterThan sParsed (n / 2) "most layer stacks parse and so reach the checker"
          Expect.isGreaterThan sOk (n / 5) "many layer stacks check, so that the layers' success paths run"
          Expect.equal vOk n "every valid-by-construction program checks" ]

// ---------------------------------------------------------------------------------------------

let private allTests =
    [ testList
          "no input makes the compiler throw, hang or give an empty or misplaced error"
          [ property "mutations of real programs" (namedArb mutantGen) (fun (name, text) -> noInputBreaksTheCompilerAs name text)
            property "token soup" (textArb soupGen) noInputBreaksTheCompiler
            property "programs from a small grammar" (textArb programGen) noInputBreaksTheCompiler
            property "stacks of layers for images and sequences" (textArb (Gen.oneof [ layerStackGen; fittingStackGen ])) noInputBreaksTheCompiler
            // parseExpr sees a real expression, the checker evaluates it as a top-level let
            property "expressions from a small grammar" (textArb (exprGen 4)) (fun e ->
                match parseExprProblems e with
                | [] -> noInputBreaksTheCompiler ("let value = " + e + "\n")
                | problems -> failwith (describeFailure e problems)) ]
      testList
          "programs built to be right or wrong"
          [ property "valid by construction checks Ok" validArb (fun v ->
                let observed = observe v.Text
                match unknownProblems observed.Problems with
                | [] -> ()
                | problems -> failwith (describeFailure v.Text problems)
                match observed.Check with
                | Ok p when p.Models |> List.exists (fun m -> m.Name = "M") -> ()
                | Ok _ -> failwithf "model M is missing from the checked program of %s" (literal v.Text)
                | Error ds -> failwithf "expected Ok for\n%s\nbut got:\n%s" v.Text (Language.render file v.Text ds))
            // one check: the general invariants already run on these programs' valid twins
            property "a wrong declared output is an error" validArb (fun v ->
                match Language.check file v.WrongOutput with
                | Ok _ -> failwithf "expected an error for\n%s" v.WrongOutput
                | Error ds ->
                    let problems = if ds.IsEmpty then [ "an error without diagnostics" ] else rangeProblems file "Language.check" v.WrongOutput ds
                    if not problems.IsEmpty then failwith (describeFailure v.WrongOutput problems)) ]
      testList "regressions" (regressions @ List.map isolatedTest isolatedInputs)
      testList "generators" coverageTests ]

[<Tests>]
let tests = testList "Properties" (allTests @ probeTests)
