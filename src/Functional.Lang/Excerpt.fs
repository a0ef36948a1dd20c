/// How messages quote text that came from outside. Hostile input can be megabytes long or hold control
/// characters, so a message shows at most a short, printable excerpt of it (one rule, used everywhere).
module Functional.Excerpt

open System.Text

/// At most `max` characters of `text` (at least 1), control characters written as escapes (`\0`, `\x1b`,
/// `\n`), and, when cut, how long the whole was: `aaaa… (1048576 characters)`.
let ofText (max: int) (text: string) =
    let text = if isNull text then "" else text
    let max = System.Math.Max(1, max)
    let shown = StringBuilder()
    for c in text.Substring(0, System.Math.Min(text.Length, max)) do
        match c with
        | '\000' -> shown.Append "\\0" |> ignore
        | '\n' -> shown.Append "\\n" |> ignore
        | '\r' -> shown.Append "\\r" |> ignore
        | '\t' -> shown.Append "\\t" |> ignore
        | c when System.Char.IsControl c -> shown.AppendFormat("\\x{0:x2}", int c) |> ignore
        | c -> shown.Append c |> ignore
    if text.Length > max then shown.AppendFormat("… ({0} characters)", text.Length) |> ignore
    shown.ToString()

/// `ofText` with the length messages usually allow: 60 characters.
let short (text: string) = ofText 60 text
