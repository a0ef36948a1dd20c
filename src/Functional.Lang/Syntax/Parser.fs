/// Recursive-descent parser for `.fnn` files, with an F#-style offside rule.
///
/// Layout: every block (the declarations of the file, a model body, a `let` value, the settings of a
/// `train`, a bracketed expression) remembers the column of its first token. A token that is not the
/// first on its line always continues what is being parsed; a line's first token continues it when it
/// is to the right of the innermost block, starts the block's next item when it is exactly at the
/// block's column, and closes the block when it is to the left. Two refinements:
/// - a line starting with an infix operator at a block's column (not column 1) continues the expression
///   above it, so `>> ...` lines may line up with the line they extend;
/// - a block that begins mid-line (`let a = dense 4`) also takes continuation lines to its left, as
///   long as they are right of the enclosing block's column. A block that begins on its own line does
///   not: a line between its column and the enclosing one is reported as bad indentation.
/// Syntax errors abandon the current declaration (an exception caught per declaration) and parsing
/// resumes at the next `let`/`model`/`train`/`import` in column 1.
module Functional.Lang.Syntax.Parser

open Functional.Lang
open Functional.Lang.Syntax.Lexer

/// Abandons the current declaration; `parse` records it and resumes at the next declaration.
/// None: the failure is already explained by a lexer diagnostic.
exception private SyntaxError of Diagnostic option

type private Layout =
    /// continues the item being parsed
    | Inside
    /// starts the next item of the innermost block (it is at the block's column)
    | NewItem
    /// belongs to an enclosing block, or is the end of the file
    | Outside
    /// between a block's column and its parent's: an error, then treated as NewItem
    | BadIndent of blockColumn: int

type private ContextKind =
    /// items aligned at one column: declarations, model bodies, let values, train settings
    | Block
    /// `( ... )`: a single item, so its column never starts a new one
    | Paren
    /// `[ ... ]`: one element per aligned line
    | Items

type private Context =
    { Kind: ContextKind
      Column: int
      /// The block began on its own line (not right after `=`, `(`...), so a line left of its column
      /// but right of the enclosing block's is misindented rather than a continuation.
      BeganLine: bool
      /// Index of the token that starts the current item (it may sit at the block's column).
      mutable ItemStart: int }

/// Bounds the recursion, so that pathological input gives a diagnostic rather than a stack overflow.
let private maxDepth = 100

type private Parser(file: string, lexed: LexResult) =
    let tokens = lexed.Tokens
    let last = tokens.Length - 1
    let diagnostics = ResizeArray<Diagnostic>()
    let mutable pos = 0
    let mutable contexts: Context list = []
    let mutable depth = 0

    // One diagnostic per place: a misplaced line often trips a second check at the same token.
    let record (d: Diagnostic) =
        if not (diagnostics.Exists(fun x -> x.Range.Start = d.Range.Start)) then
            diagnostics.Add d

    let fail range message : 'a =
        raise (SyntaxError(Some(Diagnostic.error range message)))

    let point (p: Position) = Range.make file (p.Line, p.Column) (p.Line, p.Column)
    let peek () = tokens[pos]
    let kind () = tokens[pos].Kind

    let advance () =
        let t = tokens[pos]
        if pos < last then pos <- pos + 1
        t

    /// The source from token `start` to the last token consumed.
    let spanFrom start =
        Range.union tokens[start].Range tokens[max start (pos - 1)].Range

    let describe (t: Token) =
        if t.Text.Length > 30 then sprintf "'%s...'" (t.Text.Substring(0, 27)) else sprintf "'%s'" t.Text

    let location (r: Range) = sprintf "%d:%d" r.Start.Line r.Start.Column
    let current () = List.head contexts

    /// No item can start with these, so a line starting with one at a block's column (but not at
    /// column 1) continues the expression above it. '-' could be a negation: see isOperator.
    let continuesLine k =
        match k with
        | TokenKind.Compose
        | TokenKind.Pipe
        | TokenKind.FatArrow
        | TokenKind.Plus
        | TokenKind.Star
        | TokenKind.Slash
        | TokenKind.Power
        | TokenKind.At
        | TokenKind.As -> true
        | _ -> false

    let rec classify (t: Token) (stack: Context list) =
        match stack with
        | [] -> Outside
        | ctx :: parent ->
            let column = t.Range.Start.Column
            if column > ctx.Column then Inside
            elif column = ctx.Column then
                if ctx.Kind = Paren || (continuesLine t.Kind && not parent.IsEmpty) then Inside else NewItem
            else
                match classify t parent with
                | Inside when ctx.BeganLine && ctx.Kind <> Paren -> BadIndent ctx.Column
                | Inside -> Inside
                | _ -> Outside

    /// Where token `i` stands relative to the open blocks (never BadIndent: that is reported here).
    let layout i =
        let t = tokens[i]
        if t.Kind = TokenKind.EndOfFile then Outside
        elif not t.LineStart then Inside
        else
            match classify t contexts with
            | BadIndent column ->
                record (
                    Diagnostic.error
                        t.Range
                        (sprintf
                            "bad indentation: this line starts at column %d, but the block it belongs to starts at column %d; align it with that column or indent it further"
                            t.Range.Start.Column
                            column)
                )
                NewItem
            | l -> l

    /// May the item being parsed take the next token?
    let available () =
        match layout pos with
        | Inside -> true
        | NewItem -> pos = (current ()).ItemStart
        | _ -> false

    /// Is the next token the infix operator k? A line starting with '-' at the block's column
    /// subtracts, except in a list, where it is a new, negative element. (NewItem also stands for a
    /// misindented line, already reported, which any operator may continue.)
    let isOperator k =
        kind () = k
        && match layout pos with
           | Inside -> true
           | NewItem -> not (k = TokenKind.Minus && (current ()).Kind = Items)
           | _ -> false

    let isAt k = kind () = k && available ()

    let endOfLast () =
        if pos = 0 then { Line = 1; Column = 1 } else tokens[pos - 1].Range.End

    /// Fails with "expected X, but found Y" at Y, or at the end of the last token when the line or
    /// the file ends first.
    let expected what : 'a =
        let t = peek ()
        if available () then
            fail t.Range (sprintf "expected %s, but found %s" what (describe t))
        elif t.Kind = TokenKind.EndOfFile then
            if lexed.Truncated then raise (SyntaxError None)
            fail (point (endOfLast ())) (sprintf "expected %s, but the file ends here" what)
        else
            fail (point (endOfLast ())) (sprintf "expected %s, but the line ends here" what)

    /// "X after 'previous token'"
    let after what =
        if pos = 0 then what else sprintf "%s after %s" what (describe tokens[pos - 1])

    let expect k what =
        if isAt k then advance () else expected what

    let ident (t: Token) name : Ident = { Name = name; Range = t.Range }

    let expectIdent what =
        match kind () with
        | TokenKind.Ident name when available () -> ident (advance ()) name
        | _ -> expected what

    let deeper (parse: unit -> 'a) =
        depth <- depth + 1
        try
            if depth > maxDepth then
                fail (peek ()).Range (sprintf "this is nested too deeply (more than %d levels)" maxDepth)
            parse ()
        finally
            depth <- depth - 1

    /// Runs `parse` in a new block that begins at the next token, which must continue the current item.
    let inBlock kind what (parse: unit -> 'a) =
        if not (available ()) then expected what
        let t = peek ()
        contexts <-
            { Kind = kind
              Column = t.Range.Start.Column
              BeganLine = t.LineStart
              ItemStart = pos }
            :: contexts
        try
            deeper parse
        finally
            contexts <- List.tail contexts

    /// Expects the closing bracket, which may sit anywhere (even left of its block), or fails.
    let close (opener: Token) closer what =
        if kind () = closer then
            advance () |> ignore
        elif available () then
            fail (peek ()).Range (sprintf "expected %s, but found %s" what (describe (peek ())))
        elif kind () = TokenKind.EndOfFile && lexed.Truncated then
            raise (SyntaxError None)
        else
            let ends = if kind () = TokenKind.EndOfFile then "file" else "line"
            fail opener.Range (sprintf "unclosed '%s' (opened at %s): expected %s, but the %s ends here" opener.Text (location opener.Range) what ends)

    let startsArgument k =
        match k with
        | TokenKind.Number _
        | TokenKind.String _
        | TokenKind.True
        | TokenKind.False
        | TokenKind.Ident _
        | TokenKind.LParen
        | TokenKind.LBracket
        | TokenKind.Fun
        | TokenKind.Let -> true
        | _ -> false

    let rec parseExpr () : Expr =
        let start = pos
        let left = parsePipe ()
        if isAt TokenKind.With then
            parseWith start left
        elif isOperator TokenKind.FatArrow then
            advance () |> ignore
            let right = parsePipe ()
            if isOperator TokenKind.FatArrow then
                fail (peek ()).Range "'=>' cannot be chained: a training example is written 'input => target'"
            Pair(left, right, spanFrom start)
        else
            left

    /// `m with label = e`, one replacement per line (aligned), or one on the line of `with`.
    and parseWith start (model: Expr) =
        advance () |> ignore
        let replacements = ResizeArray<Replacement>()
        inBlock Block "a replacement such as 'head = dense 2' after 'with'" (fun () ->
            let mutable go = true
            while go do
                let itemStart = pos
                let first = expectIdent "a label such as 'head = dense 2'"
                let path = ResizeArray [ first ]
                while kind () = TokenKind.Dot && available () do
                    advance () |> ignore
                    path.Add(expectIdent "a label after '.'")
                let written = path |> Seq.map (fun id -> id.Name) |> String.concat "."
                expect TokenKind.Equals (sprintf "'=' and the part that replaces '%s'" written) |> ignore
                let value = inBlock Block (after "an expression") (fun () -> parseBlockExpr None)
                replacements.Add { Path = List.ofSeq path; Value = value; Range = spanFrom itemStart }
                match layout pos with
                | NewItem -> (current ()).ItemStart <- pos
                | Inside when kind () = TokenKind.RParen || kind () = TokenKind.RBracket || kind () = TokenKind.Semicolon -> go <- false
                | Inside -> expected (sprintf "the next replacement on a new line after '%s = ...'" written)
                | _ -> go <- false)
        With(model, List.ofSeq replacements, spanFrom start)

    /// One left-associative precedence level.
    and binaryLevel (operand: unit -> Expr) (operators: (TokenKind * (Expr * Expr * Range -> Expr)) list) =
        let start = pos
        let mutable left = operand ()
        let mutable go = true
        while go do
            match operators |> List.tryFind (fun (k, _) -> isOperator k) with
            | Some(_, make) ->
                advance () |> ignore
                let right = operand ()
                left <- make (left, right, spanFrom start)
            | None -> go <- false
        left

    and parsePipe () = binaryLevel parseCompose [ TokenKind.Pipe, Pipe ]
    and parseCompose () = binaryLevel parseLabeled [ TokenKind.Compose, Compose ]

    and parseLabeled () =
        let start = pos
        let mutable e = parseAdditive ()
        while isOperator TokenKind.As do
            advance () |> ignore
            let name = expectIdent "a label name after 'as'"
            e <- Labeled(e, name, spanFrom start)
        e

    and parseAdditive () =
        binaryLevel
            parseMultiplicative
            [ TokenKind.Plus, (fun (a, b, r) -> Binary(Add, a, b, r))
              TokenKind.Minus, (fun (a, b, r) -> Binary(Subtract, a, b, r)) ]

    and parseMultiplicative () =
        binaryLevel
            parseUnary
            [ TokenKind.Star, (fun (a, b, r) -> Binary(Multiply, a, b, r))
              TokenKind.Slash, (fun (a, b, r) -> Binary(Divide, a, b, r))
              TokenKind.At, (fun (a, b, r) -> Binary(MatMul, a, b, r)) ]

    and parseUnary () =
        deeper (fun () ->
            if isAt TokenKind.Minus then
                let start = pos
                advance () |> ignore
                let operand = parseUnary ()
                Negate(operand, spanFrom start)
            else
                parsePower ())

    /// `**` is right-associative and takes a signed right operand: `2 ** -1`.
    and parsePower () =
        let start = pos
        let b = parseApplication ()
        if isOperator TokenKind.Power then
            advance () |> ignore
            let exponent = parseUnary ()
            Binary(Power, b, exponent, spanFrom start)
        else
            b

    /// F#'s rule for `f -1` and `f -x`: a '-' that touches its operand but not the token before it
    /// passes a negative argument; `a - 1` and `a-1` subtract.
    and negativeArgument () =
        kind () = TokenKind.Minus
        && pos > 0
        && pos < last
        && (let minus, before, after = tokens[pos], tokens[pos - 1], tokens[pos + 1]
            before.Range.End <> minus.Range.Start
            && after.Range.Start = minus.Range.End
            && (match after.Kind with
                | TokenKind.Number _
                | TokenKind.Ident _
                | TokenKind.LParen -> true
                | _ -> false))

    and parseApplication () =
        let start = pos
        let head = parsePrimary ()
        let args = ResizeArray<Arg>()
        let mutable go = true
        while go && (startsArgument (kind ()) || negativeArgument ()) && available () do
            match kind () with
            | TokenKind.Minus ->
                let minusStart = pos
                advance () |> ignore
                let operand = parsePrimary ()
                args.Add(Positional(Negate(operand, spanFrom minusStart)))
            | TokenKind.LParen ->
                match parseParen true with
                | Choice1Of2 e -> args.Add(Positional e)
                | Choice2Of2 options ->
                    for (name, value, range) in options do
                        args.Add(Named(name, value, range))
            | TokenKind.Fun
            | TokenKind.Let ->
                // they extend as far right as possible, so nothing can follow them
                args.Add(Positional(parsePrimary ()))
                go <- false
            | _ -> args.Add(Positional(parsePrimary ()))
        if args.Count = 0 then head else Apply(head, List.ofSeq args, spanFrom start)

    and parsePrimary () =
        if not (available ()) then expected (after "an expression")
        let t = peek ()
        match t.Kind with
        | TokenKind.Number(value, isInteger) ->
            advance () |> ignore
            Number(value, isInteger, t.Range)
        | TokenKind.String s ->
            advance () |> ignore
            String(s, t.Range)
        | TokenKind.True ->
            advance () |> ignore
            Bool(true, t.Range)
        | TokenKind.False ->
            advance () |> ignore
            Bool(false, t.Range)
        | TokenKind.Ident name ->
            advance () |> ignore
            Var(ident t name)
        | TokenKind.LParen ->
            match parseParen false with
            | Choice1Of2 e -> e
            | Choice2Of2(options: (Ident * Expr * Range) list) ->
                let _, _, range = options.Head
                fail range "a named argument is only allowed as an argument of a function, as in 'sgd (lr = 0.5)'"
        | TokenKind.LBracket ->
            let start = pos
            let opener = advance ()
            let items = parseItems opener
            List(items, spanFrom start)
        | TokenKind.Fun -> parseLambda ()
        | TokenKind.Let -> inBlock Block "an expression" (fun () -> parseBlockExpr None)
        | _ -> expected (after "an expression")

    /// `( expr )`, or `(name = expr)` which only an application may take (`allowNamed`).
    and parseParen allowNamed =
        let start = pos
        let opener = advance ()
        let named =
            match kind (), tokens[min last (pos + 1)].Kind with
            | TokenKind.Ident _, TokenKind.Equals -> true
            | _ -> false
        let content =
            inBlock Paren (after "an expression") (fun () ->
                if named then
                    // `(name = value)`, or several: `(stride = 2, padding = 1)`
                    let one () =
                        let name = expectIdent "a name"
                        expect TokenKind.Equals "'='" |> ignore
                        name, parseExpr ()
                    let first = one ()
                    let rest = ResizeArray()
                    while kind () = TokenKind.Comma do
                        advance () |> ignore
                        rest.Add(one ())
                    Choice2Of2(first :: List.ofSeq rest)
                else
                    Choice1Of2(parseExpr ()))
        close opener TokenKind.RParen "')'"
        match content with
        | Choice1Of2 e -> Choice1Of2 e
        | Choice2Of2 [ name, value ] when allowNamed -> Choice2Of2 [ name, value, spanFrom start ]
        | Choice2Of2 options when allowNamed ->
            Choice2Of2(options |> List.map (fun (name, value) -> name, value, Range.union name.Range (Expr.range value)))
        | Choice2Of2 options ->
            fail
                (spanFrom start)
                (sprintf "the named argument '(%s = ...)' is only allowed as an argument of a function, as in 'sgd (lr = 0.5)'" (fst options.Head).Name)

    /// The elements of `[ ... ]` after the opener, separated by ';' or by lines at the first element's
    /// column (a trailing ';' is fine), and the closing ']'.
    and parseItems (opener: Token) =
        let items = ResizeArray<Expr>()
        if kind () <> TokenKind.RBracket then
            inBlock Items (after "an expression") (fun () ->
                let mutable go = true
                while go do
                    items.Add(parseExpr ())
                    if kind () = TokenKind.Semicolon && layout pos <> Outside then
                        advance () |> ignore
                        if kind () = TokenKind.RBracket || layout pos = Outside then go <- false
                        else (current ()).ItemStart <- pos
                    elif layout pos = NewItem && kind () <> TokenKind.RBracket then
                        (current ()).ItemStart <- pos
                    else
                        go <- false)
        close opener TokenKind.RBracket "';' or ']'"
        List.ofSeq items

    and parseLambda () =
        let start = pos
        advance () |> ignore
        let parameters = ResizeArray<Ident>()
        let mutable go = true
        while go do
            match kind () with
            | TokenKind.Ident name when available () -> parameters.Add(ident (advance ()) name)
            | _ -> go <- false
        if parameters.Count = 0 then expected "a parameter name after 'fun'"
        expect TokenKind.Arrow (after "'->'") |> ignore
        let body = inBlock Block (after "an expression") (fun () -> parseBlockExpr None)
        Lambda(List.ofSeq parameters, body, spanFrom start)

    /// The items of the innermost block: `let` bindings (and, in a model body, `param` declarations,
    /// collected into `modelParams`), then one expression. Lets wrap what follows them in LetIn.
    and parseBlockExpr (modelParams: ResizeArray<ParamDecl> option) =
        let lets = ResizeArray<LetBinding>()
        let mutable body = None
        while body.IsNone do
            match kind (), modelParams with
            | TokenKind.Param, Some ps ->
                let p = parseParamDecl ()
                ps.Add p
                nextItem (sprintf "the model's body on the next line, aligned with 'param', after 'param %s'" p.Name.Name)
            | TokenKind.Param, None ->
                fail (peek ()).Range "'param' declarations are only allowed at the start of a model's body"
            | TokenKind.Let, _ ->
                let b = parseLetBinding ()
                lets.Add b
                nextItem (sprintf "an expression on the next line, aligned with 'let', after 'let %s = ...'" b.Name.Name)
            | _ -> body <- Some(parseExpr ())
        match layout pos, kind () with
        | NewItem, _ ->
            fail
                (peek ()).Range
                (sprintf
                    "unexpected %s: a block ends with a single expression (is an operator such as '>>' missing?)"
                    (describe (peek ())))
        | Inside, (TokenKind.RParen | TokenKind.RBracket | TokenKind.Semicolon | TokenKind.Comma) -> () // an enclosing bracket's business
        | Inside, _ -> expected (after "an operator or the end of the line")
        | _ -> ()
        Seq.foldBack (fun (b: LetBinding) acc -> LetIn(b, acc, Range.union b.Range (Expr.range acc))) lets body.Value

    /// Moves to the next item of the innermost block, which must begin on a line at its column.
    and nextItem what =
        match layout pos with
        | NewItem -> (current ()).ItemStart <- pos
        | _ -> expected what

    and parseLetBinding () : LetBinding =
        let start = pos
        let letToken = advance ()
        let name = expectIdent "a name after 'let'"
        let parameters = parseParameters ()
        let equalsWhat =
            if parameters.IsEmpty then sprintf "'=' after 'let %s'" name.Name
            else sprintf "'=' after the parameters of '%s'" name.Name
        expect TokenKind.Equals equalsWhat |> ignore
        let value = inBlock Block (after "an expression") (fun () -> parseBlockExpr None)
        { Name = name
          Parameters = parameters
          Value = value
          Doc = letToken.Doc
          Range = spanFrom start }

    /// `x`, `(x: int)`, `(rate = 0.1)`, `(x: int = 3)` until the '='.
    and parseParameters () : Parameter list =
        let parameters = ResizeArray<Parameter>()
        let mutable go = true
        while go && available () do
            match kind () with
            | TokenKind.Ident name ->
                parameters.Add { Name = ident (advance ()) name; Type = None; Default = None }
            | TokenKind.LParen -> parameters.Add(parseParenParameter ())
            | _ -> go <- false
        List.ofSeq parameters

    and parseParenParameter () =
        let opener = advance ()
        let p = inBlock Paren (after "a parameter name") parseParameterBody
        close opener TokenKind.RParen "')'"
        p

    /// `name`, `name: type`, `name = default` or `name: type = default`
    and parseParameterBody () : Parameter =
        let name = expectIdent (after "a parameter name")
        let typ =
            if isAt TokenKind.Colon then
                advance () |> ignore
                Some(expectIdent "a type name such as 'int' after ':'")
            else
                None
        let value =
            if isAt TokenKind.Equals then
                advance () |> ignore
                Some(parseExpr ())
            else
                None
        { Name = name; Type = typ; Default = value }

    /// `(h1 = d1, (h2: int), ...)`
    and parseHypers () =
        let opener = advance ()
        let hypers = ResizeArray<Parameter>()
        if kind () <> TokenKind.RParen then
            inBlock Paren (after "a hyperparameter") (fun () ->
                let mutable go = true
                while go do
                    hypers.Add(if isAt TokenKind.LParen then parseParenParameter () else parseParameterBody ())
                    if isAt TokenKind.Comma then
                        advance () |> ignore
                        go <- kind () <> TokenKind.RParen // a trailing ',' is fine
                    else
                        go <- false)
        close opener TokenKind.RParen "',' or ')'"
        List.ofSeq hypers

    /// `[d1; d2] type`, the element type only on the same line as ']'.
    and parseShape what : ShapeSpec =
        let start = pos
        if not (isAt TokenKind.LBracket) then expected what
        let opener = advance ()
        let dims = parseItems opener
        let elementType =
            match kind () with
            | TokenKind.Ident name when available () && not (peek ()).LineStart -> Some(ident (advance ()) name)
            | _ -> None
        { Dims = dims; ElementType = elementType; Range = spanFrom start }

    and parseParamDecl () : ParamDecl =
        let start = pos
        let paramToken = advance ()
        let name = expectIdent "a parameter name after 'param'"
        expect TokenKind.Colon (sprintf "':' and a shape after 'param %s'" name.Name) |> ignore
        let shape = parseShape (after "a shape such as '[2; 4]'")
        expect TokenKind.Equals (sprintf "'=' and an initializer after the shape of '%s'" name.Name) |> ignore
        let init = inBlock Block (after "an expression") (fun () -> parseBlockExpr None)
        { Name = name
          Shape = shape
          Init = init
          Doc = paramToken.Doc
          Range = spanFrom start }

    let parseModel () : ModelDecl =
        let start = pos
        let modelToken = advance ()
        let name = expectIdent "a model name after 'model'"
        let hypers = if isAt TokenKind.LParen then parseHypers () else []
        let colonWhat =
            if hypers.IsEmpty then sprintf "':' and the model's type after 'model %s'" name.Name
            else "':' and the model's type after its hyperparameters"
        expect TokenKind.Colon colonWhat |> ignore
        let input = parseShape "the model's input shape (such as '[28; 28]') after ':'"
        expect TokenKind.Arrow "'->' after the model's input shape" |> ignore
        let output = parseShape "the model's output shape after '->'"
        expect TokenKind.Equals "'=' after the model's type" |> ignore
        let parameters = ResizeArray<ParamDecl>()
        let body = inBlock Block "the model's body after '='" (fun () -> parseBlockExpr (Some parameters))
        { Name = name
          Doc = modelToken.Doc
          Hypers = hypers
          Input = input
          Output = output
          Params = List.ofSeq parameters
          Body = body
          Range = spanFrom start }

    let parseTrain () : TrainDecl =
        let start = pos
        advance () |> ignore
        let model = expectIdent "a model name after 'train'"
        expect TokenKind.With (sprintf "'with' after 'train %s'" model.Name) |> ignore
        let settings = ResizeArray<Setting>()
        inBlock Block "indented settings such as 'epochs = 10' after 'with'" (fun () ->
            let mutable go = true
            while go do
                let settingStart = pos
                let name = expectIdent "a setting such as 'epochs = 10'"
                expect TokenKind.Equals (sprintf "'=' after the setting '%s'" name.Name) |> ignore
                let value = inBlock Block (after "an expression") (fun () -> parseBlockExpr None)
                settings.Add { Name = name; Value = value; Range = spanFrom settingStart }
                match layout pos with
                | NewItem -> (current ()).ItemStart <- pos
                | Inside -> expected (sprintf "the next setting on a new line after '%s'" name.Name)
                | _ -> go <- false)
        { Model = model
          Settings = List.ofSeq settings
          Range = spanFrom start }

    let parseImport () =
        let start = pos
        advance () |> ignore
        match kind () with
        | TokenKind.String path when available () ->
            advance () |> ignore
            Import(path, spanFrom start)
        | _ -> expected "a file path in quotes after 'import'"

    let isDeclarationStart (t: Token) =
        t.LineStart
        && t.Range.Start.Column = 1
        && match t.Kind with
           | TokenKind.Let
           | TokenKind.Model
           | TokenKind.Train
           | TokenKind.Import -> true
           | _ -> false

    member _.Diagnostics = List.ofSeq diagnostics

    member _.ParseProgram() : Decl list =
        let top = { Kind = Block; Column = 1; BeganLine = true; ItemStart = 0 }
        let decls = ResizeArray<Decl>()
        while kind () <> TokenKind.EndOfFile do
            let declStart = pos
            let t = peek ()
            contexts <- [ top ]
            depth <- 0
            top.ItemStart <- pos
            let resume () =
                pos <- max pos (declStart + 1)
                while kind () <> TokenKind.EndOfFile && not (isDeclarationStart (peek ())) do
                    pos <- pos + 1
            try
                if t.Range.Start.Column <> 1 then
                    fail t.Range (sprintf "expected a declaration starting at column 1, but found %s at column %d" (describe t) t.Range.Start.Column)
                let decl =
                    match t.Kind with
                    | TokenKind.Let -> Let(parseLetBinding ())
                    | TokenKind.Model -> Model(parseModel ())
                    | TokenKind.Train -> Train(parseTrain ())
                    | TokenKind.Import -> parseImport ()
                    | _ ->
                        fail t.Range (sprintf "expected a declaration ('let', 'model', 'train' or 'import'), but found %s" (describe t))
                decls.Add decl
                if layout pos = Inside then
                    // the declaration is complete; what follows it on its lines is not
                    record (Diagnostic.error (peek ()).Range (sprintf "unexpected %s after the end of the declaration" (describe (peek ()))))
                    resume ()
            with SyntaxError d ->
                Option.iter record d
                resume ()
        List.ofSeq decls

    member _.ParseSingleExpr() : Expr option =
        contexts <- [ { Kind = Block; Column = 0; BeganLine = true; ItemStart = 0 } ]
        try
            let e = inBlock Block "an expression" (fun () -> parseBlockExpr None)
            if kind () <> TokenKind.EndOfFile then
                fail (peek ()).Range (sprintf "unexpected %s after the expression" (describe (peek ())))
            Some e
        with SyntaxError d ->
            Option.iter record d
            None

let private byPosition (ds: Diagnostic list) =
    ds |> List.sortBy (fun d -> d.Range.Start.Line, d.Range.Start.Column)

let private internalError file (ex: exn) =
    Diagnostic.error (Range.make file (1, 1) (1, 1)) (sprintf "internal parser error: %s" ex.Message)

/// Parses a whole file. Never throws: returns the declarations it could parse plus every syntax
/// error, resuming after an error at the next `let`/`model`/`train`/`import` in column 1.
let parse (file: string) (text: string) : Program * Diagnostic list =
    try
        let lexed = tokenize file text
        let parser = Parser(file, lexed)
        let decls = parser.ParseProgram()
        { File = file; Decls = decls }, byPosition (lexed.Diagnostics @ parser.Diagnostics)
    with ex ->
        { File = file; Decls = [] }, [ internalError file ex ]

/// Parses a single expression (command-line overrides such as `--set dim=64`, tests).
let parseExpr (file: string) (text: string) : Result<Expr, Diagnostic list> =
    try
        let lexed = tokenize file text
        let parser = Parser(file, lexed)
        match parser.ParseSingleExpr(), byPosition (lexed.Diagnostics @ parser.Diagnostics) with
        | Some e, [] -> Ok e
        | _, [] -> Error [ internalError file (exn "no expression and no diagnostic") ]
        | _, diagnostics -> Error diagnostics
    with ex ->
        Error [ internalError file ex ]
