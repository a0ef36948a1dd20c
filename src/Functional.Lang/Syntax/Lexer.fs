/// Turns `.fnn` source text into tokens. Comments and whitespace disappear here; what the parser
/// needs of the layout survives as each token's range and its LineStart flag.
module Functional.Lang.Syntax.Lexer

open System.Globalization
open System.Text
open Functional.Lang

[<RequireQualifiedAccess>]
type TokenKind =
    | Ident of string
    | Number of value: float * isInteger: bool
    | String of string
    // keywords
    | Let
    | Model
    | Param
    | Train
    | With
    | Fun
    | Import
    | As
    | True
    | False
    // operators and punctuation
    | Compose // >>
    | Pipe // |>
    | Arrow // ->
    | FatArrow // =>
    | At // @
    | Plus
    | Minus
    | Star
    | Slash
    | Power // **
    | Equals
    | Colon
    | Semicolon
    | Comma
    | LParen
    | RParen
    | LBracket
    | RBracket
    /// `.` between two names, as in a dotted label path (`features.head`); anywhere else '.' is no token
    | Dot
    | EndOfFile

type Token =
    { Kind: TokenKind
      /// The source text of the token, for messages.
      Text: string
      Range: Range
      /// True for the first token on its line: only these take part in the offside rule.
      LineStart: bool
      /// The `///` lines right before this token, joined with "\n".
      Doc: string option }

type LexResult =
    { Tokens: Token[] // always ends with one EndOfFile token
      Diagnostics: Diagnostic list
      /// An unterminated block comment swallowed the rest of the file, so complaints from the
      /// parser about the file ending early would only repeat that diagnostic.
      Truncated: bool }

let private keywords =
    dict
        [ "let", TokenKind.Let
          "model", TokenKind.Model
          "param", TokenKind.Param
          "train", TokenKind.Train
          "with", TokenKind.With
          "fun", TokenKind.Fun
          "import", TokenKind.Import
          "as", TokenKind.As
          "true", TokenKind.True
          "false", TokenKind.False ]

// Only ASCII: Char.IsDigit and Char.IsLetter accept far more than the language does.
let private isDigit c = c >= '0' && c <= '9'
let private isIdentStart c = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c = '_'
let private isIdentPart c = isIdentStart c || isDigit c || c = '\''

/// How a stray character is named in a message: itself when printable, its code point otherwise.
let private showChar (s: string) =
    if s.Length = 1 && (System.Char.IsControl s[0] || System.Char.IsSurrogate s[0] || s[0] = ' ') then
        sprintf "U+%04X" (int s[0])
    else
        sprintf "'%s'" s

/// Splits `text` into tokens. Never throws; problems become diagnostics and lexing goes on.
let tokenize (file: string) (text: string) : LexResult =
    let text = if isNull text then "" else text
    let len = text.Length
    let tokens = ResizeArray<Token>()
    let diagnostics = ResizeArray<Diagnostic>()
    let docLines = ResizeArray<string>()
    let mutable i = 0
    let mutable line = 1
    let mutable lineStartIndex = 0
    let mutable lastTokenLine = 0
    let mutable tabReportedOn = 0
    let mutable truncated = false

    let charAt j = if j < len then text[j] else '\000'
    // Tokens never span lines, so a column is always relative to the current line.
    let posAt j = { Line = line; Column = j - lineStartIndex + 1 }
    let rangeOf a b = { File = file; Start = posAt a; End = posAt b }
    let report a b message = diagnostics.Add(Diagnostic.error (rangeOf a b) message)

    let newLine () =
        line <- line + 1
        lineStartIndex <- i

    let emit kind start =
        tokens.Add
            { Kind = kind
              Text = text.Substring(start, i - start)
              Range = rangeOf start i
              LineStart = line <> lastTokenLine
              Doc = if docLines.Count = 0 then None else Some(System.String.Join("\n", docLines)) }
        docLines.Clear()
        lastTokenLine <- line

    let lexNumber start =
        while isDigit (charAt i) do
            i <- i + 1
        let mutable isInteger = true
        if charAt i = '.' && isDigit (charAt (i + 1)) then
            isInteger <- false
            i <- i + 1
            while isDigit (charAt i) do
                i <- i + 1
        if charAt i = 'e' || charAt i = 'E' then
            let digitsAt = if charAt (i + 1) = '+' || charAt (i + 1) = '-' then i + 2 else i + 1
            // `2e` without digits is the number 2 followed by the name `e`
            if isDigit (charAt digitsAt) then
                isInteger <- false
                i <- digitsAt
                while isDigit (charAt i) do
                    i <- i + 1
        let value = System.Double.Parse(text.Substring(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture)
        emit (TokenKind.Number(value, isInteger)) start

    let lexString start =
        let sb = StringBuilder()
        let mutable closed = false
        i <- i + 1
        while not closed && i < len && text[i] <> '\n' do
            match text[i] with
            | '"' ->
                closed <- true
                i <- i + 1
            | '\\' when i + 1 < len && text[i + 1] <> '\n' && text[i + 1] <> '\r' ->
                match text[i + 1] with
                | '"' -> sb.Append '"' |> ignore
                | '\\' -> sb.Append '\\' |> ignore
                | 'n' -> sb.Append '\n' |> ignore
                | 't' -> sb.Append '\t' |> ignore
                | other ->
                    report i (i + 2) (sprintf "unknown escape sequence '\\%c' in a string; the escapes are \\\", \\\\, \\n and \\t" other)
                    sb.Append other |> ignore
                i <- i + 2
            | '\r' when charAt (i + 1) = '\n' -> i <- i + 1
            | c ->
                sb.Append c |> ignore
                i <- i + 1
        if not closed then
            report start (start + 1) "unterminated string: add a closing '\"' before the end of the line"
        emit (TokenKind.String(sb.ToString())) start

    let lexBlockComment start =
        let startRange = rangeOf start (start + 2)
        let mutable depth = 1
        i <- i + 2
        while depth > 0 && i < len do
            match text[i] with
            | '(' when charAt (i + 1) = '*' ->
                depth <- depth + 1
                i <- i + 2
            | '*' when charAt (i + 1) = ')' ->
                depth <- depth - 1
                i <- i + 2
            | '\n' ->
                i <- i + 1
                newLine ()
            | _ -> i <- i + 1
        if depth > 0 then
            truncated <- true
            diagnostics.Add(Diagnostic.error startRange "unterminated comment: this '(*' has no matching '*)'")

    let lexLineComment start =
        // `///` opens a doc comment only when nothing precedes it on the line (`////` is plain)
        let isDoc = charAt (i + 2) = '/' && charAt (i + 3) <> '/' && lastTokenLine <> line
        while i < len && text[i] <> '\n' do
            i <- i + 1
        if isDoc then
            let body = text.Substring(start + 3, i - start - 3).TrimEnd('\r')
            docLines.Add(if body.StartsWith " " then body.Substring 1 else body)

    let operator2 a b =
        match a, b with
        | '>', '>' -> Some TokenKind.Compose
        | '|', '>' -> Some TokenKind.Pipe
        | '-', '>' -> Some TokenKind.Arrow
        | '=', '>' -> Some TokenKind.FatArrow
        | '*', '*' -> Some TokenKind.Power
        | _ -> None

    let operator1 c =
        match c with
        | '@' -> Some TokenKind.At
        | '+' -> Some TokenKind.Plus
        | '-' -> Some TokenKind.Minus
        | '*' -> Some TokenKind.Star
        | '/' -> Some TokenKind.Slash
        | '=' -> Some TokenKind.Equals
        | ':' -> Some TokenKind.Colon
        | ';' -> Some TokenKind.Semicolon
        | ',' -> Some TokenKind.Comma
        | '(' -> Some TokenKind.LParen
        | ')' -> Some TokenKind.RParen
        | '[' -> Some TokenKind.LBracket
        | ']' -> Some TokenKind.RBracket
        | _ -> None

    while i < len do
        let start = i
        let c = text[i]
        match c with
        | '\n' ->
            i <- i + 1
            newLine ()
        | ' '
        | '\r' -> i <- i + 1
        | '\t' ->
            if lastTokenLine <> line && tabReportedOn <> line then
                tabReportedOn <- line
                report i (i + 1) "tabs are not allowed for indentation; use spaces"
            i <- i + 1
        | '/' when charAt (i + 1) = '/' -> lexLineComment start
        | '(' when charAt (i + 1) = '*' -> lexBlockComment start
        | '"' -> lexString start
        | _ when isDigit c -> lexNumber start
        // `features.head`: a '.' that touches a name on both sides (`.5` and `1.` stay errors).
        | '.' when isIdentStart (charAt (i + 1))
                   && tokens.Count > 0
                   && (match tokens[tokens.Count - 1].Kind with TokenKind.Ident _ -> true | _ -> false)
                   && tokens[tokens.Count - 1].Range.End = posAt i ->
            i <- i + 1
            emit TokenKind.Dot start
        | _ when isIdentStart c ->
            while isIdentPart (charAt i) do
                i <- i + 1
            let word = text.Substring(start, i - start)
            match keywords.TryGetValue word with
            | true, keyword -> emit keyword start
            | _ -> emit (TokenKind.Ident word) start
        | _ ->
            match operator2 c (charAt (i + 1)), operator1 c with
            | Some kind, _ ->
                i <- i + 2
                emit kind start
            | None, Some kind ->
                i <- i + 1
                emit kind start
            | None, None ->
                let width = if System.Char.IsHighSurrogate c && System.Char.IsLowSurrogate(charAt (i + 1)) then 2 else 1
                report i (i + width) (sprintf "unexpected character %s" (showChar (text.Substring(i, width))))
                i <- i + width

    tokens.Add
        { Kind = TokenKind.EndOfFile
          Text = ""
          Range = rangeOf i i
          LineStart = true
          Doc = None }

    { Tokens = tokens.ToArray()
      Diagnostics = List.ofSeq diagnostics
      Truncated = truncated }
