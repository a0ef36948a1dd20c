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

let internal trainPlan (env: Env) (declared: string list) (models: Model list) (t: TrainDecl) : Checked<TrainPlan> =
    let known = [ "data"; "loss"; "optimizer"; "schedule"; "epochs"; "batch" ]
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
                return
                    { Model = m.Name
                      Inputs = inputs
                      Targets = targets
                      Loss = loss
                      Optimizer = optimizer
                      Schedule = schedule
                      Epochs = epochs
                      Batch = batch
                      Range = t.Range }
            }
        results

/// What a file gives the files that import it: its top-level names (lets and models) and its models.
