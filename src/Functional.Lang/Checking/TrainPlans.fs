/// Checking, part three: `train` blocks: their data, loss, optimizer and settings; and optimizers and
/// schedules written on the command line.
module Functional.Lang.Checking.TrainPlans

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.Value
open Functional.Lang.Checking.LayerBuilders
open Functional.Lang.Checking.Evaluation
open Functional.Lang.Checking.Models

let rec internal literal (value: Value) : Result<float list * int list, string> =
    match value with
    | VInt n -> Ok([ float n ], [])
    | VFloat f -> Ok([ f ], [])
    | VList [] -> Ok([], [ 0 ])
    | VList items ->
        items
        |> List.map literal
        |> List.fold
            (fun acc item ->
                match acc, item with
                | Error e, _
                | _, Error e -> Error e
                | Ok(values, None), Ok(v, s) -> Ok(v :: values, Some s)
                | Ok(values, Some s0), Ok(v, s) when s = s0 -> Ok(v :: values, Some s0)
                | Ok _, Ok _ -> Error "its rows have different lengths")
            (Ok([], None))
        |> Result.map (fun (rows, inner) -> List.concat (List.rev rows), List.length items :: defaultArg inner [])
    | VError -> Error "" // reported where it was defined
    | v -> Error(sprintf "it holds %s where a number was expected" (describe v))

/// A train block's loss: a builtin, or `fun y t -> ...` giving one number per example (y the model's
/// output, t the target, both of the model's output shape).
let internal lossOf (m: Model) (value: Value) (range: Range) : Checked<Loss> =
    match value with
    // A softmax over one score is 1 whatever the score: the loss would be 0 forever and nothing would learn.
    | VLoss CrossEntropy when Shape.last m.Output = Some(Known 1) || Shape.rank m.Output = 0 ->
        fail range (sprintf "crossEntropy needs an output per class (its last axis), but %s has one output %O, so its loss is always 0: give it one output per class ([2] for two classes), or use bce with a sigmoid output" m.Name m.Output)
    | VLoss l -> Ok l
    | VError -> Error []
    | VFunction f when f.Positional.Length = 2 ->
        let y = VTensor { Kind = Input; Shape = m.Output; Batched = true }
        let t = VTensor { Kind = Target; Shape = m.Output; Batched = true }
        let scope = { Context = { BuildContext.root () with Path = "loss" }; Next = ref 0 }
        f.Invoke { Args = [ y, range; t, range ]; Named = Map.empty; Range = range; Scope = Some scope }
        |> Result.bind (function
            | VTensor term when Shape.rank term.Shape = 0 ->
                match Term.layers term |> List.tryFind (fun n -> match n.Op with Primitive p -> not (Functional.Lang.Layers.Activations.isActivation p) | _ -> true) with
                | Some layer -> fail layer.Range (sprintf "a loss can use activations, but no layer with weights like %s" layer.Name)
                | None -> Ok(Custom term)
            | VTensor term -> fail range (sprintf "a loss gives one number per example (use sum or mean), but this one gives %O" term.Shape)
            | VError -> Error []
            | v -> fail range (sprintf "a loss must return a number per example, but this one returns %s" (describe v)))
    | v -> fail range (sprintf "loss must be mse, bce, crossEntropy, nll, l1 or a function fun y t -> ..., but it is %s" (describe v))

/// `a, b or c`.
let private orList (names: string list) =
    match List.rev names with
    | last :: (_ :: _ as before) -> sprintf "%s or %s" (List.rev before |> String.concat ", ") last
    | _ -> String.concat "" names

/// A train block's optimizer or schedule: a builtin, bare (`adam`: its defaults) or with options.
/// `names` are the builtins that fit; `other` the other kind's, named when one is given instead.
let private configured what (pick: Value -> 'T option) (names: string list) (otherWhat: string, other: string list) (v: Value) (r: Range) : Checked<'T> =
    let describeValue v =
        match v with
        | VFunction f when List.contains f.Name other -> sprintf "the %s %s" otherWhat f.Name
        | v -> describe v
    let invoked =
        match v with
        | VFunction f when f.Positional.IsEmpty ->
            match f.Invoke { Args = []; Named = Map.empty; Range = r; Scope = None } with
            // A bare schedule where an optimizer belongs: say that, not what the schedule lacks.
            | Error _ when List.contains f.Name other -> Ok v
            | invoked -> invoked
        | v -> Ok v
    invoked
    |> Result.bind (fun v ->
        match pick v, v with
        | Some c, _ -> Ok c
        | None, VError -> Error []
        | None, _ -> fail r (sprintf "%s must be %s, but it is %s" what (orList names) (describeValue v)))

let private optimizerNames = TrainSettings.optimizers |> List.map fst
let private scheduleNames = TrainSettings.schedules |> List.map fst

let private optimizerOf =
    configured "optimizer" (function VOptimizer o -> Some o | _ -> None) optimizerNames ("schedule", scheduleNames)

let private scheduleOf =
    configured "schedule" (function VSchedule s -> Some s | _ -> None) scheduleNames ("optimizer", optimizerNames)

/// A train block without an optimizer setting trains with `sgd`.
let private sgd =
    match TrainSettings.optimizer "sgd" [] with
    | Ok o -> o
    | Error e -> failwithf "sgd's defaults are refused: %A" e

let private fromText (origin: string) (text: string) (convert: Value -> Range -> Checked<'T>) : Checked<'T> =
    let builtins: Env = Builtins.table |> Map.map (fun _ make -> Builtin make)
    Parser.parseExpr origin (if isNull text then "" else text)
    |> Result.bind (fun e -> eval builtins None e |> Result.bind (fun v -> convert v (Expr.range e)))

/// An optimizer written outside a file (`--optimizer "adamw(lr=0.001)"`), checked as a train block's is;
/// diagnostics name `origin` as their file.
let optimizerFromText origin text = fromText origin text optimizerOf

/// A schedule written outside a file (`--schedule "cosine(epochs=20)"`), checked as a train block's is.
let scheduleFromText origin text = fromText origin text scheduleOf

/// The string literals written in an expression, in order, with their places.
let rec private literals (e: Expr) : (string * Range) list =
    match e with
    | String(s, r) -> [ s, r ]
    | Number _
    | Bool _
    | Var _ -> []
    | Apply(f, args, _) -> literals f @ (args |> List.collect (function Positional a -> literals a | Named(_, a, _) -> literals a))
    | Binary(_, a, b, _)
    | Compose(a, b, _)
    | Pipe(a, b, _)
    | Pair(a, b, _) -> literals a @ literals b
    | Negate(a, _)
    | Lambda(_, a, _)
    | Labeled(a, _, _) -> literals a
    | List(items, _) -> List.collect literals items
    | LetIn(binding, body, _) -> literals binding.Value @ literals body
    | With(m, replacements, _) -> literals m @ List.collect (fun (r: Replacement) -> literals r.Value) replacements

/// Each string with the place it is written in the setting, when the setting writes them all as
/// literals in order; otherwise the setting's value as the place of each.
let private placed (value: Expr) (strings: string list) : (string * Range) list =
    let written = literals value
    if List.map fst written = strings then written
    else strings |> List.map (fun s -> s, Expr.range value)

/// A list of patterns (or one pattern) as strings.
let private patterns what (v: Value) (r: Range) : Checked<string list> =
    match v with
    | VError -> Error []
    | VString s -> Ok [ s ]
    | VList items ->
        items
        |> List.map (function
            | VString s -> Ok s
            | VError -> Error []
            | v -> fail r (sprintf "%s must be a list of patterns (strings such as \"features.*\"), but it holds %s" what (describe v)))
        |> Checked.all
    | v -> fail r (sprintf "%s must be a list of patterns (strings such as \"features.*\"), but it is %s" what (describe v))

/// Every pattern must match one of `paths`: an error at each that does not.
let private matching what (m: Model) (paths: string list) (items: (string * Range) list) : Checked<unit> =
    items
    |> List.filter (fun (p, _) -> (PathPatterns.select p paths).IsEmpty)
    |> List.map (fun (p, r) -> Diagnostic.error r (PathPatterns.noMatch what m.Name p paths))
    |> function
        | [] -> Ok()
        | errors -> Error errors

/// The fine-tuning settings of a train block (`from`, `freeze`, `unfreezeAt`, `lrFor`, `lora`,
/// `trainable`), each pattern checked against the model's paths.
let private fineTune (env: Env) (t: TrainDecl) (m: Model) (epochs: int) : Checked<FineTunePlan> =
    let setting name = t.Settings |> List.tryFind (fun s -> s.Name.Name = name)
    let read name (convert: Setting -> Value -> Range -> Checked<'T>) : Checked<'T option> =
        match setting name with
        | None -> Ok None
        | Some s -> eval env None s.Value |> Result.bind (fun v -> convert s v (Expr.range s.Value)) |> Result.map Some
    let parameters = PathPatterns.parameters m
    let patternList what (s: Setting) v r =
        patterns what v r
        |> Result.map (placed s.Value)
        |> Result.bind (fun items -> matching "parameter" m parameters items |> Result.map (fun () -> items))
    let from =
        read "from" (fun _ v r ->
            match v with
            | VError -> Error []
            | VString "" -> fail r "from must name a checkpoint folder, but it is empty"
            | VString folder ->
                let file = System.IO.Path.GetFullPath r.File
                let dir = System.IO.Path.GetDirectoryName file
                Ok(System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, folder)), r)
            | v -> fail r (sprintf "from must be a checkpoint folder in quotes (relative to this file's folder), but it is %s" (describe v)))
    let freeze = read "freeze" (patternList "freeze")
    let unfreezeAt =
        read "unfreezeAt" (fun _ v r ->
            asInt r "unfreezeAt" v
            |> Result.bind (fun n ->
                let explicitEpochs = (setting "epochs").IsSome
                if n < 1 then fail r (sprintf "unfreezeAt is an epoch, counted from 1, but it is %d" n)
                elif explicitEpochs && n > epochs then fail r (sprintf "unfreezeAt must be an epoch from 1 to %d (epochs), but it is %d" epochs n)
                else Ok(n, r)))
    let rates =
        read "lrFor" (fun s v r ->
            let pairs =
                match v with
                | VError -> Error []
                | VList items ->
                    items
                    |> List.map (function
                        | VPair(VString p, rate) ->
                            asFloat r (sprintf "the learning rate for '%s'" p) rate
                            |> Result.bind (fun x ->
                                if x > 0.0 && System.Double.IsFinite x then Ok(p, x)
                                else fail r (sprintf "the learning rate for '%s' must be a positive number, but it is %g" p x))
                        | VError -> Error []
                        | v -> fail r (sprintf "lrFor must be a list of \"pattern\" => rate, but it holds %s" (describe v)))
                    |> Checked.all
                | v -> fail r (sprintf "lrFor must be a list of \"pattern\" => rate, such as [\"head.*\" => 0.01], but it is %s" (describe v))
            pairs
            |> Result.bind (fun pairs ->
                let items = placed s.Value (List.map fst pairs)
                matching "parameter" m parameters items
                |> Result.map (fun () -> List.map2 (fun (p, x) (_, at) -> p, x, at) pairs items)))
    let lora =
        read "lora" (fun s v r ->
            let settings =
                match v with
                | VLora l -> Ok l
                | VFunction f when f.Name = "lora" -> f.Invoke { Args = []; Named = Map.empty; Range = r; Scope = None } |> Result.bind (function VLora l -> Ok l | _ -> Error [])
                | VError -> Error []
                | v -> fail r (sprintf "lora must be lora (rank = 8, on = [...]), but it is %s" (describe v))
            settings
            |> Result.bind (fun l ->
                let targets = placed s.Value (List.map fst l.Targets)
                matching PathPatterns.projectionWhat m (PathPatterns.projectionWeights m) targets
                |> Result.map (fun () -> { l with Targets = targets })))
    let trainable = read "trainable" (patternList "trainable")
    check {
        // Independent settings: every bad one is reported.
        let! (((((from, freeze), unfreezeAt), rates), lora), trainable) = from <&> freeze <&> unfreezeAt <&> rates <&> lora <&> trainable
        let freeze = defaultArg freeze []
        let trainable = defaultArg trainable []
        let at name = (setting name).Value.Name.Range
        do! match unfreezeAt with
            | Some _ when freeze.IsEmpty -> fail (at "unfreezeAt") "unfreezeAt unfreezes the frozen parameters, but nothing is frozen: add freeze = [\"...\"]"
            | _ -> Ok()
        do! if not trainable.IsEmpty && lora.IsNone then
                fail (at "trainable") "trainable names the parameters that train besides the LoRA adapters, so it needs lora = lora (...); without lora, every parameter not frozen trains"
            else Ok()
        let frozenAll =
            not freeze.IsEmpty
            && parameters |> List.forall (fun p -> freeze |> List.exists (fun (pattern, _) -> PathPatterns.matches pattern p))
        do! if frozenAll && unfreezeAt.IsNone && lora.IsNone then
                fail (at "freeze") (sprintf "freeze freezes every parameter of %s, so nothing would train: leave some out, add unfreezeAt, or add lora" m.Name)
            else Ok()
        return
            { From = from
              Freeze = freeze
              UnfreezeAt = unfreezeAt |> Option.map fst
              LearningRates = defaultArg rates []
              Lora = lora
              Trainable = trainable }
    }

let internal trainPlan (env: Env) (declared: string list) (models: Model list) (t: TrainDecl) : Checked<TrainPlan> =
    let known = [ "data"; "loss"; "optimizer"; "schedule"; "epochs"; "batch"; "from"; "freeze"; "unfreezeAt"; "lrFor"; "lora"; "trainable" ]
    let unknownSettings =
        t.Settings
        |> List.filter (fun s -> not (List.contains s.Name.Name known))
        |> List.map (fun s ->
            let hint =
                match Checked.suggest s.Name.Name known with
                | Some near -> sprintf "did you mean '%s'? " near
                | None -> ""
            Diagnostic.error s.Name.Range (sprintf "unknown training setting '%s'; %sthe settings are %s" s.Name.Name hint (String.concat ", " known)))
    let errors = unknownSettings @ duplicates (t.Settings |> List.map (fun s -> s.Name)) "the setting"
    let setting name = t.Settings |> List.tryFind (fun s -> s.Name.Name = name)
    let valueOf name (convert: Value -> Range -> Checked<'T>) (fallback: unit -> Checked<'T>) =
        match setting name with
        | Some s -> eval env None s.Value |> Result.bind (fun v -> convert v (Expr.range s.Value))
        | None -> fallback ()
    match List.tryFind (fun (m: Model) -> m.Name = t.Model.Name) models with
    | _ when not errors.IsEmpty -> Error errors
    // A model that failed its own checks has been reported already.
    | None when List.contains t.Model.Name declared -> Error []
    | None ->
        let hint =
            match Checked.suggest t.Model.Name (models |> List.map (fun m -> m.Name)) with
            | Some near -> sprintf "; did you mean '%s'?" near
            | None -> ""
        fail t.Model.Range (sprintf "there is no model named '%s' to train%s" t.Model.Name hint)
    | Some m ->
        let examples (v: Value) range : Checked<float[][] * float[][]> =
            let expect (side: string) (shape: Shape) i (value: Value) =
                match literal value with
                | Error "" -> Error []
                | Error why -> fail range (sprintf "example %d's %s is not a tensor: %s" (i + 1) side why)
                | Ok(values, dims) ->
                    if Shape.ofInts dims = { shape with Tokens = false } then Ok(Array.ofList values)
                    elif (Shape.tryInts shape).IsNone then
                        fail range (sprintf "model %s's %s %O has a symbolic dimension; a train block's data needs a model whose shapes are numbers" m.Name side shape)
                    else fail range (sprintf "example %d's %s has shape %O, but model %s's %s is %O" (i + 1) side (Shape.ofInts dims) m.Name side shape)
            match v with
            | VError -> Error []
            | VList [] -> fail range "the training data is empty"
            | VList items ->
                items
                |> List.mapi (fun i item ->
                    match item with
                    | VPair(x, y) ->
                        check {
                            let! xs = expect "input" m.Input i x
                            let! ys = expect "output" m.Output i y
                            return xs, ys
                        }
                    | VError -> Error []
                    | other -> fail range (sprintf "example %d must be written input => target, but it is %s" (i + 1) (describe other)))
                |> Checked.all
                |> Result.map (fun pairs -> pairs |> List.map fst |> Array.ofList, pairs |> List.map snd |> Array.ofList)
            | other -> fail range (sprintf "data must be a list of examples [input => target; ...], but it is %s" (describe other))
        let results =
            check {
                let! inputs, targets =
                    // Without `data` the examples come from elsewhere (`fnn train --data FILE`, a C# data set).
                    valueOf "data" (fun v r -> examples v r) (fun () -> Ok([||], [||]))
                let! loss = valueOf "loss" (lossOf m) (fun () -> Ok MeanSquaredError)
                let! optimizer = valueOf "optimizer" optimizerOf (fun () -> Ok sgd)
                let! schedule =
                    match setting "schedule" with
                    | None -> Ok None
                    | Some s ->
                        let at = Expr.range s.Value
                        eval env None s.Value
                        |> Result.bind (fun v -> scheduleOf v at)
                        // The schedule must suit the rate it starts from (a cosine's minLr below it).
                        |> Result.bind (fun schedule ->
                            TrainSettings.fitsRate optimizer.Lr schedule
                            |> Result.map (fun () -> Some schedule)
                            |> Result.mapError (List.map (fun e -> Diagnostic.error at e.Message)))
                let! epochs =
                    valueOf "epochs" (fun v r -> asInt r "epochs" v |> Result.bind (fun n -> if n > 0 then Ok n else fail r (sprintf "epochs must be positive, but it is %d" n))) (fun () -> Ok 1)
                let! batch =
                    valueOf "batch" (fun v r -> asInt r "batch" v |> Result.bind (fun n -> if n > 0 then Ok(Some n) else fail r (sprintf "batch must be positive, but it is %d" n))) (fun () -> Ok None)
                let! fineTune = fineTune env t m epochs
                return
                    { Model = m.Name
                      Inputs = inputs
                      Targets = targets
                      Loss = loss
                      Optimizer = optimizer
                      Schedule = schedule
                      Epochs = epochs
                      Batch = batch
                      Range = t.Range
                      FineTune = fineTune }
            }
        results

/// What a file gives the files that import it: its top-level names (lets and models) and its models.
