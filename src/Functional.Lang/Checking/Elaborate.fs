/// Checking a whole file: its imports, lets, models and train blocks in order (Evaluation, Models,
/// TrainPlans), before any tensor exists. The result is the checked program or every independent error.
module Functional.Lang.Checking.Elaborate

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.Value
open Functional.Lang.Checking.LayerBuilders
open Functional.Lang.Checking.Evaluation
open Functional.Lang.Checking.Models
open Functional.Lang.Checking.TrainPlans

type Exports =
    { Values: Map<string, Value>
      Models: Model list }

/// Checks the file at a path as written in an `import`, for the import at that range.
type Importer = string -> Range -> Checked<Exports>

/// What checking a file's declarations in order has gathered so far.
type private Elaboration =
    { Env: Env
      Models: Model list
      Imported: Model list
      Exported: Map<string, Value>
      Errors: Diagnostic list }

/// Checks a parsed program. `overrides` replace its models' hyperparameters (`--set name=value`);
/// `imports` checks the files it imports.
let program (imports: Importer) (overrides: Map<string, Value * Range>) (p: Program) : Checked<CheckedProgram * Exports> =
    let builtins: Env = Builtins.table |> Map.map (fun _ make -> Builtin make)
    let step (state: Elaboration) decl =
        match decl with
        | Import(path, r) ->
            match imports path r with
            | Ok exports ->
                { state with
                    Env = exports.Values |> Map.fold (fun e name v -> bind name v e) state.Env
                    Imported = state.Imported @ exports.Models }
            | Error e -> { state with Errors = state.Errors @ e }
        | Let binding ->
            match letValue state.Env None binding with
            | Ok v ->
                let v = named binding v
                { state with
                    Env = bind binding.Name.Name v state.Env
                    Exported = Map.add binding.Name.Name v state.Exported }
            | Error e -> { state with Env = bind binding.Name.Name VError state.Env; Errors = state.Errors @ e }
        | Model m ->
            let value = modelValue state.Env m
            let env = bind m.Name.Name value state.Env
            let state = { state with Env = env; Exported = Map.add m.Name.Name value state.Exported }
            match model env overrides m with
            | Ok checkedModel -> { state with Models = state.Models @ [ checkedModel ] }
            | Error e -> { state with Errors = state.Errors @ e }
        | Train _ -> state
    // An override that no model of the file has is a mistake (a typo, or the wrong file).
    let hypers = p.Decls |> List.collect (function Model m -> m.Hypers |> List.map (fun h -> h.Name.Name) | _ -> []) |> Set.ofList
    let unknownOverrides =
        overrides
        |> Map.toList
        |> List.filter (fun (name, _) -> not (hypers.Contains name))
        |> List.map (fun (name, (_, at)) ->
            let hint =
                match Checked.suggest name hypers with
                | Some near -> sprintf "; did you mean '%s'?" near
                | None -> ""
            Diagnostic.error at (sprintf "no model of %s has a hyperparameter '%s'%s" p.File name hint))
    let start = { Env = builtins; Models = []; Imported = []; Exported = Map.empty; Errors = unknownOverrides }
    let { Env = env; Models = models; Imported = imported; Exported = exported; Errors = errors } = List.fold step start p.Decls
    let modelIds = p.Decls |> List.choose (function Model m -> Some m.Name | _ -> None)
    let declared = modelIds |> List.map (fun id -> id.Name)
    let trainDecls = p.Decls |> List.choose (function Train t -> Some t | _ -> None)
    let secondTrains =
        trainDecls
        |> List.groupBy (fun t -> t.Model.Name)
        |> List.collect (fun (name, blocks) ->
            match blocks with
            | first :: rest ->
                rest
                |> List.map (fun t ->
                    Diagnostic.error t.Model.Range (sprintf "%s already has a train block; a model has at most one" name)
                    |> Diagnostic.withRelated first.Model.Range "the first one")
            | [] -> [])
    let trains = trainDecls |> List.map (trainPlan env declared (models @ imported))
    let trainErrors = trains |> List.collect (function Error e -> e | Ok _ -> [])
    match errors @ duplicates modelIds "the model" @ trainErrors @ secondTrains with
    | [] ->
        Ok(
            { File = p.File
              Models = models
              Imported = imported
              Trains = trains |> List.choose (function Ok t -> Some t | Error _ -> None) },
            { Values = exported; Models = models }
        )
    | all -> Error all
