namespace Functional.Lang

open System
open Functional.Lang.Syntax

[<RequireQualifiedAccess>]
type Severity =
    | Error
    | Warning

/// One message about a program, anchored at a source range, with optional related places
/// ("from conv2d at 3:5").
type Diagnostic =
    { Severity: Severity
      Range: Range
      Message: string
      Related: (Range * string) list }

module Diagnostic =
    /// The longest message a diagnostic holds: one that quotes a hostile name or value whole is cut.
    let private longest = 400

    let error range message = { Severity = Severity.Error; Range = range; Message = Functional.Excerpt.ofText longest message; Related = [] }
    let withRelated range message (d: Diagnostic) = { d with Related = d.Related @ [ range, message ] }
    let isError (d: Diagnostic) = d.Severity = Severity.Error

    /// How much of a source line is shown around the place: a line of a megabyte is shown in part.
    let private window = 120

    /// `file:line:col: error: message`, then the source line and a caret under the place (a run of
    /// carets under a single-line range); of a long line, only the part around the place, marked with `…`.
    let render (sourceText: string -> string option) (d: Diagnostic) =
        let sb = Text.StringBuilder()
        let severity = match d.Severity with Severity.Error -> "error" | Severity.Warning -> "warning"
        let r = d.Range
        // A diagnostic about a whole file (missing, unreadable) has no line to point at.
        if r.Start.Line = 0 then sb.AppendFormat("{0}: {1}: {2}", r.File, severity, d.Message) |> ignore
        else sb.AppendFormat("{0}:{1}:{2}: {3}: {4}", r.File, r.Start.Line, r.Start.Column, severity, d.Message) |> ignore
        match sourceText r.File with
        | Some text when r.Start.Line >= 1 ->
            let lines = text.Replace("\r\n", "\n").Split('\n')
            if r.Start.Line <= lines.Length then
                let whole = lines[r.Start.Line - 1].TrimEnd()
                let gutter = string r.Start.Line
                let column = max 0 (r.Start.Column - 1)
                // The part of the line shown: all of it, or a window that starts a little before the place.
                let first = if whole.Length <= window then 0 else min (max 0 (column - window / 3)) (max 0 (whole.Length - window))
                let shown = whole.Substring(first, min window (whole.Length - first))
                let line =
                    // Control characters shown one for one (a tab as a space), so the caret stays under its place.
                    (if first > 0 then "…" else "") + String.map (fun c -> if c = '\t' then ' ' elif Char.IsControl c then '?' else c) shown
                    + (if first + shown.Length < whole.Length then "…" else "")
                let width =
                    if r.End.Line = r.Start.Line && r.End.Column > r.Start.Column then r.End.Column - r.Start.Column
                    else 1
                let width = max 1 (min width (window - (column - first)))
                let pad = String(' ', (column - first) + (if first > 0 then 1 else 0))
                sb.AppendLine().AppendFormat("{0} | {1}", gutter, line) |> ignore
                sb.AppendLine().AppendFormat("{0} | {1}{2}", String(' ', gutter.Length), pad, String('^', width)) |> ignore
        | _ -> ()
        for (range, note) in d.Related do
            sb.AppendLine().AppendFormat("  note: {0} ({1}:{2}:{3})", note, range.File, range.Start.Line, range.Start.Column) |> ignore
        sb.ToString()

/// Results that carry diagnostics, with a computation expression to chain them.
type Checked<'T> = Result<'T, Diagnostic list>

module Checked =
    let fail range message : Checked<'T> = Error [ Diagnostic.error range message ]

    /// All successes, or every error of every failure.
    let all (items: Checked<'T> list) : Checked<'T list> =
        let gather item acc =
            match item, acc with
            | Ok v, Ok vs -> Ok(v :: vs)
            | Ok _, Error e
            | Error e, Ok _ -> Error e
            | Error e1, Error e2 -> Error(e1 @ e2)
        List.foldBack gather items (Ok [])

    type Builder() =
        member _.Bind(r: Checked<'a>, f: 'a -> Checked<'b>) = Result.bind f r
        member _.Return v : Checked<_> = Ok v
        member _.ReturnFrom(r: Checked<_>) = r
        member _.Zero() : Checked<unit> = Ok()

    let check = Builder()

    /// Edit distance (insertions, deletions, substitutions, swaps of neighbours), for "did you mean".
    let private distance (a: string) (b: string) =
        let d = Array2D.init (a.Length + 1) (b.Length + 1) (fun i j -> if i = 0 then j elif j = 0 then i else 0)
        for i in 1 .. a.Length do
            for j in 1 .. b.Length do
                let cost = if System.Char.ToLowerInvariant a[i - 1] = System.Char.ToLowerInvariant b[j - 1] then 0 else 1
                d[i, j] <- min (min (d[i - 1, j] + 1) (d[i, j - 1] + 1)) (d[i - 1, j - 1] + cost)
                // A swap of two neighbours ("widht") is one edit.
                if i > 1 && j > 1 && a[i - 1] = b[j - 2] && a[i - 2] = b[j - 1] then
                    d[i, j] <- min d[i, j] (d[i - 2, j - 2] + 1)
        d[a.Length, b.Length]

    /// The closest known name, if close enough to be a likely typo.
    let suggest (name: string) (known: string seq) =
        let limit = max 1 (min 3 (name.Length / 3))
        // Nobody mistypes a name that long; and the edit distance costs the product of the lengths.
        let longest = 64
        known
        // One-letter names are too short to tell a typo from another name.
        |> Seq.filter (fun k -> name.Length >= 2 && k.Length >= 2 && name.Length <= longest && k.Length <= longest)
        // Names whose lengths differ by more than the limit cannot be close enough: skip the table.
        |> Seq.filter (fun k -> abs (k.Length - name.Length) <= limit && k <> name)
        |> Seq.map (fun k -> k, distance name k)
        |> Seq.filter (fun (_, d) -> d <= limit)
        |> Seq.sortBy snd
        |> Seq.tryHead
        |> Option.map fst
