/// Data files named on the command line: IDX (MNIST layout) or CSV, and their normalisation.
module Functional.Cli.DataFiles

open System
open System.Collections.Generic
open System.Globalization
open Functional.Data

/// Opens a data file by its kind: .csv/.tsv as CSV (the last column the label; its class names `classes`
/// when given, a training set's, so that its labels mean the same), anything else as IDX images whose
/// labels are beside them (or `labels`).
let openData (path: string) (labels: string option) (classes: IReadOnlyList<string> option) : IDataset =
    let lower = path.ToLowerInvariant()
    if lower.EndsWith ".csv" || lower.EndsWith ".tsv" then
        CsvDataset.Open(path, CsvOptions(ClassNames = Option.toObj classes)) :> IDataset
    else IdxDataset.Open(path, Option.toObj labels) :> IDataset

/// `none`, `scale` (÷255), `scale:X` or `standardize` (computed on `reference`).
let normalization (text: string option) (reference: IDataset) : Normalization =
    match text |> Option.map (fun t -> t.Trim().ToLowerInvariant()) with
    | None
    | Some "none" -> Normalization.None
    | Some "scale" -> Normalization.Scale 255.0f
    | Some t when t.StartsWith "scale:" ->
        match Single.TryParse(t.Substring 6, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, x when x > 0.0f && Single.IsFinite x -> Normalization.Scale x
        | _ -> raise (ArgumentException(sprintf "--normalize %s: the divisor must be a positive number" t))
    | Some "standardize" -> Normalization.ComputeStandardization reference
    | Some t -> raise (ArgumentException(sprintf "--normalize %s: expected none, scale, scale:X or standardize" t))

/// `--classes TEXT` read for `data` (its class names, when it has them, can name the source classes):
/// `"top=0,2,4,6; other=1,3,5,7,8,9"` keeps those classes' examples as new classes top (0) and other (1).
/// Every error names the flag. fnn train, eval and finetune share it, and apply it with `selectClasses`.
let classSelection (text: string option) (data: IDataset) : ClassSelection option =
    text
    |> Option.map (fun t ->
        try ClassSelection.Parse(t, data.ClassNames())
        with
        | :? FormatException as e -> raise (ArgumentException(sprintf "--classes %s" e.Message, e))
        | :? ArgumentException as e -> raise (ArgumentException(sprintf "--classes %s" (Output.reason e), e)))

/// Throws unless `model` outputs one score per new class of `selection` (an output [N] for N classes), naming the
/// flag: checked before training, so that no class goes untrained and no score means nothing.
let requireScores (selection: ClassSelection option) (model: Functional.Networks.ModelInfo) =
    match selection with
    | None -> ()
    | Some s ->
        let n = s.Names.Count
        let names = Functional.Excerpt.ofText 200 (String.concat ", " s.Names)
        match List.ofSeq model.Output.Dims with
        | [ d ] when d = string n -> ()
        | [ d ] when fst (Int32.TryParse d) ->
            raise (ArgumentException(sprintf "--classes makes %d classes (%s) but model %s outputs %O: its output must be [%d], one score per class" n names model.Name model.Output n))
        | _ ->
            raise (ArgumentException(sprintf "--classes makes %d classes (%s), a class label per example, but model %s outputs %O: it needs an output of [%d], one score per class" n names model.Name model.Output n))

/// For fnn eval with `--classes`: the data file, a CSV one with every class the selection names among its classes
/// (in the order CSV gives them, sorted), even those it has no example of, as a test file may lack some; it
/// returns those lacking, for a warning. Other files, and no selection, open as `openData` opens them.
let openForSelection (path: string) (labels: string option) (chosen: string option) (classes: IReadOnlyList<string> option)
    : IDataset * string list =
    match chosen with
    | None -> openData path labels classes, []
    | Some text ->
        let data = openData path labels None
        match Option.ofObj (data.ClassNames()) with
        | None -> data, []
        | Some names ->
            let lacking =
                ClassSelection.WrittenClasses text
                |> Seq.filter (fun c -> not (Seq.contains c names) && not (c |> Seq.forall Char.IsAsciiDigit))
                |> List.ofSeq
            if lacking.IsEmpty then data, []
            else
                data.Dispose()
                let all = Seq.append names lacking |> Seq.sortWith (fun a b -> String.CompareOrdinal(a, b)) |> Array.ofSeq
                openData path labels (Some(all :> IReadOnlyList<string>)), lacking

/// "top (0, 2, 4, 6), other (1, 3, 5, 7, 8, 9)": each new class and its source classes, by name when `data` names them.
let describeSelection (selection: ClassSelection) (data: IDataset) : string =
    let names = Option.ofObj (data.ClassNames())
    let source (i: int) =
        match names with
        | Some n when i < n.Count -> n[i]
        | _ -> string i
    selection.Names
    |> Seq.mapi (fun i name -> sprintf "%s (%s)" name (selection.Groups[i] |> Seq.map source |> String.concat ", "))
    |> String.concat ", "
    |> Functional.Excerpt.ofText 300

/// `data` keeping only `selection`'s classes, relabelled (a view: `data` keeps its owner), or `data` itself
/// without a selection. A listed class the data lacks, or none of its examples kept, is an error naming the
/// flag and the file.
let selectClasses (selection: ClassSelection option) (data: IDataset) : IDataset =
    match selection with
    | None -> data
    | Some s ->
        try DatasetExtensions.SelectClasses(data, s)
        with :? ArgumentException as e -> raise (ArgumentException(sprintf "--classes: %s" (Output.reason e), e))
