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
