module Functional.Lang.Tests.ParserTests

open System
open System.Globalization
open Expecto
open Functional.Lang
open Functional.Lang.Syntax

/// The normative examples of the language description.
let examples =
    """/// The XOR network: 2 -> 4 -> 1
model Xor : [2] -> [1] =
    dense 4 >> sigmoid >> dense 1 >> sigmoid

// the same network with explicit parameters and math
model XorByHand : [2] -> [1] =
    param w1 : [2; 4] = xavier
    param b1 : [4] = zeros
    param w2 : [4; 1] = xavier
    param b2 : [1] = zeros
    fun x -> sigmoid (sigmoid (x @ w1 + b1) @ w2 + b2)

train Xor with
    data = [ [0; 0] => [0]; [0; 1] => [1]; [1; 0] => [1]; [1; 1] => [0] ]
    loss = mse
    optimizer = sgd (lr = 0.5)
    epochs = 3000

import "blocks.fnn"              // another file's lets and models

/// Pre-norm transformer block (doc comments attach to the next declaration)
let block (dim: int) (heads: int) =
    residual (layerNorm >> attention heads (causal = true))
    >> residual (layerNorm >> dense (4 * dim) >> gelu >> dense dim)

model Gpt (vocab = 96, dim = 128, heads = 4, depth = 4, context = 128) : [context] int -> [context; vocab] =
    embed vocab dim >> positional context
    >> repeat depth (block dim heads)
    >> layerNorm >> dense vocab

model FashionCnn : [1; 28; 28] -> [10] =
    conv2d 32 3 (padding = 1) >> relu >> maxPool2d 2
    >> conv2d 64 3 (padding = 1) >> batchNorm >> relu >> maxPool2d 2
    >> flatten >> dropout 0.25 >> dense 128 >> relu >> dense 10

model Tagger (hidden = 64) : [seq; 16] -> [seq; 5] =
    lstm hidden >> dense 5

model Twin : [8] -> [8] =
    let enc = dense 8                 // a let-bound layer is one set of weights
    enc >> tanh >> enc

model Head : [32] -> [3] =
    let hidden = dense 16 >> relu
    hidden >> dense 3 as scores       // a label

let rate = 0.1
let scale (k = 2) x = x * k
let lossFn = fun y t -> mean ((y - t) ** 2)
"""

let private number (v: float) = v.ToString(CultureInfo.InvariantCulture)

/// A compact, fully parenthesized rendering of a tree, so tests can state structure in one line.
let rec show (e: Expr) =
    let binary op a b = sprintf "(%s %s %s)" op (show a) (show b)
    match e with
    | Number(v, true, _) -> number v
    | Number(v, false, _) -> number v + "f"
    | Bool(b, _) -> if b then "true" else "false"
    | String(s, _) -> sprintf "\"%s\"" s
    | Var id -> id.Name
    | Apply(f, args, _) -> sprintf "(%s %s)" (show f) (args |> List.map showArg |> String.concat " ")
    | Binary(op, a, b, _) -> binary (BinaryOp.symbol op) a b
    | Negate(a, _) -> sprintf "(neg %s)" (show a)
    | Compose(a, b, _) -> binary ">>" a b
    | Pipe(a, b, _) -> binary "|>" a b
    | Lambda(ps, body, _) -> sprintf "(fun %s -> %s)" (ps |> List.map (fun p -> p.Name) |> String.concat " ") (show body)
    | List(items, _) -> sprintf "[%s]" (items |> List.map show |> String.concat "; ")
    | Pair(a, b, _) -> binary "=>" a b
    | LetIn(b, body, _) -> sprintf "(let %s = %s in %s)" b.Name.Name (show b.Value) (show body)
    | Labeled(a, name, _) -> sprintf "(as %s %s)" (show a) name.Name
    | With(m, replacements, _) ->
        let one (r: Replacement) = sprintf "%s = %s" (Replacement.path r) (show r.Value)
        sprintf "(%s with %s)" (show m) (replacements |> List.map one |> String.concat "; ")

and showArg arg =
    match arg with
    | Positional e -> show e
    | Named(name, e, _) -> sprintf "(%s = %s)" name.Name (show e)

let private render text (d: Diagnostic) = Diagnostic.render (fun _ -> Some text) d

let parseClean text =
    let program, diagnostics = Parser.parse "test.fnn" text
    if not diagnostics.IsEmpty then
        failtestf "expected no diagnostics, got:\n%s" (diagnostics |> List.map (render text) |> String.concat "\n")
    program

let expr text =
    match Parser.parseExpr "expr" text with
    | Ok e -> e
    | Error ds -> failtestf "expected %s to parse, got:\n%s" text (ds |> List.map (render text) |> String.concat "\n")

let findModel name (p: Program) =
    p.Decls |> List.pick (function Model m when m.Name.Name = name -> Some m | _ -> None)

let findLet name (p: Program) =
    p.Decls |> List.pick (function Let b when b.Name.Name = name -> Some b | _ -> None)

let private at (r: Range) = sprintf "%d:%d" r.Start.Line r.Start.Column
let private span (r: Range) = sprintf "%d:%d-%d:%d" r.Start.Line r.Start.Column r.End.Line r.End.Column

/// Asserts that parsing reports a diagnostic at `position` whose message contains `phrase`.
let expectError (text: string) (position: string) (phrase: string) =
    let _, diagnostics = Parser.parse "bad.fnn" text
    let matching = diagnostics |> List.filter (fun d -> at d.Range = position && d.Message.Contains phrase)
    if matching.IsEmpty then
        failtestf
            "expected an error at %s containing %A, got:\n%s"
            position
            phrase
            (diagnostics |> List.map (render text) |> String.concat "\n")

[<Tests>]
let exampleTests =
    testList
        "Parser examples"
        [ testCase "all normative examples parse without diagnostics" <| fun () ->
              let p = parseClean examples
              let kinds =
                  p.Decls
                  |> List.map (function
                      | Model m -> "model " + m.Name.Name
                      | Let b -> "let " + b.Name.Name
                      | Train t -> "train " + t.Model.Name
                      | Import(path, _) -> "import " + path)
              Expect.equal
                  kinds
                  [ "model Xor"; "model XorByHand"; "train Xor"; "import blocks.fnn"; "let block"; "model Gpt"
                    "model FashionCnn"; "model Tagger"; "model Twin"; "model Head"; "let rate"; "let scale"; "let lossFn" ]
                  "declarations"

          testCase "Xor: composition chain, shapes and doc comment" <| fun () ->
              let m = parseClean examples |> findModel "Xor"
              Expect.equal (show m.Body) "(>> (>> (>> (dense 4) sigmoid) (dense 1)) sigmoid)" "body"
              Expect.equal m.Doc (Some "The XOR network: 2 -> 4 -> 1") "doc"
              Expect.equal (m.Input.Dims |> List.map show) [ "2" ] "input"
              Expect.equal m.Output.ElementType None "no element type"
              Expect.equal (span m.Range) "2:1-3:45" "model range spans the whole declaration"

          testCase "XorByHand: params collected in order, lambda body" <| fun () ->
              let m = parseClean examples |> findModel "XorByHand"
              Expect.equal (m.Params |> List.map (fun p -> p.Name.Name)) [ "w1"; "b1"; "w2"; "b2" ] "params"
              Expect.equal (m.Params.Head.Shape.Dims |> List.map show) [ "2"; "4" ] "w1 shape"
              Expect.equal (show m.Params.Head.Init) "xavier" "w1 init"
              Expect.equal m.Doc None "a plain comment is not a doc comment"
              Expect.equal (show m.Body) "(fun x -> (sigmoid (+ (@ (sigmoid (+ (@ x w1) b1)) w2) b2)))" "body"

          testCase "train: settings, => pairs in a list, named argument" <| fun () ->
              let p = parseClean examples
              let t = p.Decls |> List.pick (function Train t -> Some t | _ -> None)
              Expect.equal t.Model.Name "Xor" "model"
              let settings = t.Settings |> List.map (fun s -> s.Name.Name, show s.Value)
              Expect.equal
                  settings
                  [ "data", "[(=> [0; 0] [0]); (=> [0; 1] [1]); (=> [1; 0] [1]); (=> [1; 1] [0])]"
                    "loss", "mse"
                    "optimizer", "(sgd (lr = 0.5f))"
                    "epochs", "3000" ]
                  "settings"
              match t.Settings[2].Value with
              | Apply(Var f, [ Named(name, Number(0.5, false, _), _) ], _) ->
                  Expect.equal (f.Name, name.Name) ("sgd", "lr") "named argument"
              | other -> failtestf "unexpected optimizer %A" other

          testCase "import path" <| fun () ->
              let p = parseClean examples
              let path = p.Decls |> List.pick (function Import(path, r) -> Some(path, span r) | _ -> None)
              Expect.equal path ("blocks.fnn", "19:1-19:20") "import"

          testCase "let block: typed parameters, doc, continuation lines, named arg" <| fun () ->
              let b = parseClean examples |> findLet "block"
              Expect.equal b.Doc (Some "Pre-norm transformer block (doc comments attach to the next declaration)") "doc"
              Expect.equal
                  (b.Parameters |> List.map (fun p -> p.Name.Name, p.Type |> Option.map (fun t -> t.Name)))
                  [ "dim", Some "int"; "heads", Some "int" ]
                  "parameters"
              Expect.equal
                  (show b.Value)
                  "(>> (residual (>> layerNorm (attention heads (causal = true)))) (residual (>> (>> (>> layerNorm (dense (* 4 dim))) gelu) (dense dim))))"
                  "value"

          testCase "Gpt: hyperparameters with defaults and an element type" <| fun () ->
              let m = parseClean examples |> findModel "Gpt"
              Expect.equal
                  (m.Hypers |> List.map (fun h -> h.Name.Name, h.Default |> Option.map show))
                  [ "vocab", Some "96"; "dim", Some "128"; "heads", Some "4"; "depth", Some "4"; "context", Some "128" ]
                  "hypers"
              Expect.equal (m.Input.ElementType |> Option.map (fun t -> t.Name)) (Some "int") "element type"
              Expect.equal (m.Input.Dims |> List.map show) [ "context" ] "input dims"
              Expect.equal (span m.Input.Range) "26:74-26:87" "input shape range includes the element type"
              Expect.equal (m.Output.Dims |> List.map show) [ "context"; "vocab" ] "output dims"
              Expect.equal
                  (show m.Body)
                  "(>> (>> (>> (>> (embed vocab dim) (positional context)) (repeat depth (block dim heads))) layerNorm) (dense vocab))"
                  "body"

          testCase "FashionCnn: positional and named arguments together" <| fun () ->
              let m = parseClean examples |> findModel "FashionCnn"
              let rec first e =
                  match e with
                  | Compose(a, _, _) -> first a
                  | e -> e
              Expect.equal (show (first m.Body)) "(conv2d 32 3 (padding = 1))" "first layer"
              Expect.equal (m.Input.Dims |> List.map show) [ "1"; "28"; "28" ] "input"
              Expect.stringContains (show m.Body) "(dropout 0.25f)" "dropout"

          testCase "Tagger: hyper used in shapes" <| fun () ->
              let m = parseClean examples |> findModel "Tagger"
              Expect.equal (m.Input.Dims |> List.map show) [ "seq"; "16" ] "input"
              Expect.equal (show m.Body) "(>> (lstm hidden) (dense 5))" "body"

          testCase "Twin: a let in the body becomes LetIn" <| fun () ->
              let m = parseClean examples |> findModel "Twin"
              Expect.equal (show m.Body) "(let enc = (dense 8) in (>> (>> enc tanh) enc))" "body"
              match m.Body with
              | LetIn(b, _, r) ->
                  Expect.equal (span b.Range) "40:5-40:22" "binding range"
                  Expect.equal (span r) "40:5-41:23" "LetIn range"
              | _ -> failtest "LetIn"

          testCase "Head: 'as' binds tighter than '>>'" <| fun () ->
              let m = parseClean examples |> findModel "Head"
              Expect.equal (show m.Body) "(let hidden = (>> (dense 16) relu) in (>> hidden (as (dense 3) scores)))" "body"

          testCase "top-level lets: value, default parameter, lambda" <| fun () ->
              let p = parseClean examples
              Expect.equal (show (findLet "rate" p).Value) "0.1f" "rate"
              let scale = findLet "scale" p
              Expect.equal
                  (scale.Parameters |> List.map (fun x -> x.Name.Name, x.Default |> Option.map show))
                  [ "k", Some "2"; "x", None ]
                  "scale parameters"
              Expect.equal (show scale.Value) "(* x k)" "scale"
              Expect.equal (show (findLet "lossFn" p).Value) "(fun y t -> (mean (** (- y t) 2)))" "lossFn" ]

[<Tests>]
let expressionTests =
    let shows text expected =
        testCase text <| fun () -> Expect.equal (show (expr text)) expected text

    testList
        "Parser expressions"
        [ shows "a - b - c" "(- (- a b) c)"
          shows "2 ** 3 ** 2" "(** 2 (** 3 2))"
          shows "-x ** 2" "(neg (** x 2))"
          shows "2 ** -1" "(** 2 (neg 1))"
          shows "x |> f >> g" "(|> x (>> f g))"
          shows "f a b + c" "(+ (f a b) c)"
          shows "a + b * c @ d" "(+ a (@ (* b c) d))"
          shows "-a * b" "(* (neg a) b)"
          shows "a / b / c" "(/ (/ a b) c)"
          // F#'s rule: a '-' touching its operand but not the token before passes a negative argument
          shows "uniform -0.1 0.1" "(uniform (neg 0.1f) 0.1f)"
          shows "f -x" "(f (neg x))"
          shows "f -(x)" "(f (neg x))"
          shows "a - 1" "(- a 1)"
          shows "a-1" "(- a 1)"
          shows "a -  1" "(- a 1)"
          // several named arguments in one pair of parentheses
          shows "conv2d 32 3 (stride = 2, padding = 1)" "(conv2d 32 3 (stride = 2) (padding = 1))"
          shows "a |> b |> c" "(|> (|> a b) c)"
          shows "a >> b >> c" "(>> (>> a b) c)"
          shows "[1; 2] => [3] |> f" "(=> [1; 2] (|> [3] f))"
          shows "hidden >> dense 3 as scores" "(>> hidden (as (dense 3) scores))"
          shows "(dense 16 >> relu) as hidden" "(as (>> (dense 16) relu) hidden)"
          shows "dense 4 + 1 as h" "(as (+ (dense 4) 1) h)"
          shows "f (g x) [1; 2] \"s\" true" "(f (g x) [1; 2] \"s\" true)"
          shows "map (fun x -> x * 2) xs" "(map (fun x -> (* x 2)) xs)"
          shows "apply fun x -> x + 1" "(apply (fun x -> (+ x 1)))"
          shows "fun x -> x >> f" "(fun x -> (>> x f))"
          shows "[]" "[]"
          shows "[1; 2;]" "[1; 2]"
          shows "[1\n 2\n 3]" "[1; 2; 3]"
          shows "[ a\n  -1 ]" "[a; (neg 1)]"
          shows "f\n  >> g" "(>> f g)"
          shows "let x = 1\nx + 1" "(let x = 1 in (+ x 1))"
          shows "1e-3" "0.001f"
          shows "2.5E+4" "25000f"
          shows "a'" "a'"

          testCase "numbers: IsInteger only without '.' and exponent" <| fun () ->
              let isInteger text =
                  match expr text with
                  | Number(_, i, _) -> i
                  | other -> failtestf "not a number: %A" other
              Expect.equal (List.map isInteger [ "3"; "0.5"; "1e-3"; "2.5E+4"; "42" ]) [ true; false; false; false; true ] "flags"

          testCase "strings: escapes" <| fun () ->
              match expr "\"a\\\"b\\\\c\\nd\\te\"" with
              | String(s, _) -> Expect.equal s "a\"b\\c\nd\te" "escapes"
              | other -> failtestf "not a string: %A" other

          testCase "comments are skipped, block comments nest" <| fun () ->
              Expect.equal (show (expr "a (* x (* nested *) y *) + // line\n  b")) "(+ a b)" "comments"

          testCase "ranges: Var, binary spanning operands, parentheses included" <| fun () ->
              match expr "(a + b) * cc" with
              | Binary(Multiply, (Binary(Add, Var a, _, inner)), Var c, outer) ->
                  Expect.equal (span a.Range) "1:2-1:3" "a"
                  Expect.equal (span inner) "1:2-1:7" "a + b"
                  Expect.equal (span c.Range) "1:11-1:13" "cc"
                  Expect.equal (span outer) "1:1-1:13" "whole"
              | other -> failtestf "unexpected %A" other

          testCase "ranges: application and named argument" <| fun () ->
              match expr "conv2d 32 (padding = 1)" with
              | Apply(_, [ _; Named(_, _, r) ], whole) ->
                  Expect.equal (span r) "1:11-1:24" "named"
                  Expect.equal (span whole) "1:1-1:24" "apply"
              | other -> failtestf "unexpected %A" other

          testCase "multi-line lists with aligned elements" <| fun () ->
              let p =
                  parseClean
                      "train M with\n    data = [\n        [0; 0] => [0]\n        [0; 1] => [1]\n    ]\n    epochs = 1\n"
              let t = p.Decls |> List.pick (function Train t -> Some t | _ -> None)
              Expect.equal
                  (t.Settings |> List.map (fun s -> show s.Value))
                  [ "[(=> [0; 0] [0]); (=> [0; 1] [1])]"; "1" ]
                  "settings"

          testCase "a setting continues on lines indented past its name" <| fun () ->
              let p = parseClean "train M with\n    optimizer = adam\n      (lr = 0.001)\n    epochs = 2\n"
              let t = p.Decls |> List.pick (function Train t -> Some t | _ -> None)
              Expect.equal (t.Settings |> List.map (fun s -> show s.Value)) [ "(adam (lr = 0.001f))"; "2" ] "settings"

          testCase "model body on the same line as '=' and hyper forms" <| fun () ->
              let p = parseClean "model M ((n: int), k = 2) : [n] -> [k] = dense k\n    >> relu\nlet a = 1\n"
              let m = findModel "M" p
              Expect.equal (show m.Body) "(>> (dense k) relu)" "body"
              Expect.equal
                  (m.Hypers |> List.map (fun h -> h.Name.Name, h.Type |> Option.map (fun t -> t.Name), h.Default |> Option.map show))
                  [ "n", Some "int", None; "k", None, Some "2" ]
                  "hypers"

          testCase "doc comments join lines and attach to params and local lets" <| fun () ->
              let p =
                  parseClean
                      "model M : [] -> [1] =\n    /// first\n    ///second\n    param w : [1] = zeros\n    /// local\n    let a = w\n    a\n"
              let m = findModel "M" p
              Expect.equal m.Params.Head.Doc (Some "first\nsecond") "param doc"
              Expect.equal m.Input.Dims [] "scalar shape"
              match m.Body with
              | LetIn(b, _, _) -> Expect.equal b.Doc (Some "local") "let doc"
              | other -> failtestf "unexpected %A" other

          testCase "offside: operator lines at a block's column continue the expression above" <| fun () ->
              let body text = show (findModel "M" (parseClean text)).Body
              Expect.equal
                  (body "model M : [2] -> [1] =\n    let hidden = dense 16\n    >> relu\n    hidden\n")
                  "(let hidden = (>> (dense 16) relu) in hidden)"
                  "continues a same-line let value"
              Expect.equal
                  (body "model M : [2] -> [1] =\n    residual (layerNorm\n    >> relu)\n")
                  "(residual (>> layerNorm relu))"
                  "continues inside parentheses"
              Expect.equal (body "model M : [2] -> [1] =\n    let a = 1\n    -a\n") "(let a = 1 in (neg a))" "'-' starts the let's body"
              Expect.equal (body "model M : [2] -> [1] =\n    a\n    - b\n") "(- a b)" "'-' under the expression subtracts"
              Expect.equal
                  (body "model M : [2] -> [1] =\n    let a =\n        dense 4\n          >> relu\n    let b = a\n    b\n")
                  "(let a = (>> (dense 4) relu) in (let b = a in b))"
                  "a let value on its own lines"

          testCase "Windows line endings" <| fun () ->
              let p = parseClean (examples.Replace("\n", "\r\n"))
              Expect.equal p.Decls.Length 13 "declarations"
              Expect.equal (findModel "Xor" p).Doc (Some "The XOR network: 2 -> 4 -> 1") "doc without '\\r'"

          testCase "a parameter with type and default" <| fun () ->
              let b = parseClean "let f (x: int = 3) = x\n" |> findLet "f"
              Expect.equal
                  (b.Parameters |> List.map (fun p -> p.Name.Name, p.Type |> Option.map (fun t -> t.Name), p.Default |> Option.map show))
                  [ "x", Some "int", Some "3" ]
                  "parameter" ]

[<Tests>]
let errorTests =
    testList
        "Parser errors"
        [ testCase "unterminated block comment" <| fun () ->
              expectError "let a = 1\n(* open (* nested *)\nlet b = 2\n" "2:1" "unterminated comment"

          testCase "unterminated string" <| fun () ->
              expectError "import \"blocks.fnn\nlet a = 1\n" "1:8" "unterminated string"

          testCase "bad character" <| fun () -> expectError "let a = 1 # 2\n" "1:11" "unexpected character '#'"

          testCase "missing '=' after a model's type" <| fun () ->
              expectError "model Xor : [2] -> [1]\n    dense 4 >> sigmoid\n" "2:5" "expected '=' after the model's type, but found 'dense'"

          testCase "unclosed '(' reported at the opener" <| fun () ->
              expectError
                  "model M : [2] -> [1] =\n    sigmoid (dense 4\n        >> relu\nlet x = 1\n"
                  "2:13"
                  "unclosed '(' (opened at 2:13)"

          testCase "unclosed '[' at the end of the file" <| fun () ->
              expectError "let xs = [1; 2" "1:10" "unclosed '[' (opened at 1:10): expected ';' or ']', but the file ends here"

          testCase "bad indentation" <| fun () ->
              expectError "model M : [2] -> [1] =\n    param w : [2; 1] = xavier\n  fun x -> x @ w\n" "3:3" "bad indentation"

          testCase "bad indentation of a continuation line" <| fun () ->
              expectError "let f =\n    dense 4\n  >> relu\n" "3:3" "block it belongs to starts at column 5"

          testCase "tabs" <| fun () -> expectError "let a =\n\t1\n" "2:1" "tabs are not allowed for indentation"

          testCase "missing expression after '>>'" <| fun () ->
              expectError
                  "model M : [2] -> [1] =\n    dense 4 >>\nlet x = 1\n"
                  "2:15"
                  "expected an expression after '>>', but the line ends here"

          testCase "missing expression at the end of the file" <| fun () ->
              expectError "let a = 1 +" "1:12" "expected an expression after '+', but the file ends here"

          testCase "unknown top-level token" <| fun () ->
              expectError "let a = 1\nfoo = 3\n" "2:1" "expected a declaration ('let', 'model', 'train' or 'import'), but found 'foo'"

          testCase "indented first declaration" <| fun () ->
              expectError "  let a = 1\n" "1:3" "column 1"

          testCase "named argument outside an application" <| fun () ->
              expectError "let a = (lr = 0.5)\n" "1:9" "named argument"

          testCase "chained '=>'" <| fun () -> expectError "let a = x => y => z\n" "1:16" "cannot be chained"

          testCase "let without a body" <| fun () ->
              expectError "model M : [1] -> [1] =\n    let a = dense 1\nlet b = 2\n" "2:20" "aligned with 'let'"

          testCase "two expressions in a block" <| fun () ->
              expectError "let f =\n    dense 4\n    relu\n" "3:5" "a block ends with a single expression"

          testCase "param outside a model" <| fun () ->
              expectError "let f =\n    param w : [1] = zeros\n    w\n" "2:5" "only allowed at the start of a model's body"

          testCase "unknown escape" <| fun () -> expectError "import \"a\\qb\"\n" "1:10" "unknown escape sequence '\\q'"

          testCase "trailing junk after a declaration" <| fun () ->
              expectError "let a = (1)) + 2\nlet b = 3\n" "1:12" "unexpected ')' after the end of the declaration"

          testCase "missing ']' on the same line" <| fun () ->
              expectError "let a = [1, 2]\n" "1:11" "expected ';' or ']', but found ','"

          testCase "two independent errors in two declarations are both reported" <| fun () ->
              let text = "model A : [2] -> [1]\n    dense 1\n\nlet b = (1 +\n\nlet c = 3\n"
              let program, diagnostics = Parser.parse "two.fnn" text
              Expect.equal
                  (diagnostics |> List.map (fun d -> at d.Range))
                  [ "2:5"; "4:13" ]
                  (diagnostics |> List.map (render text) |> String.concat "\n")
              Expect.stringContains diagnostics[1].Message "expected an expression after '+'" "second message"
              Expect.equal
                  (program.Decls |> List.choose (function Let b -> Some b.Name.Name | _ -> None))
                  [ "c" ]
                  "the good declaration survives"

          testCase "errors carry the file name and render with a caret" <| fun () ->
              let text = "let a = 1 # 2\n"
              let _, diagnostics = Parser.parse "x.fnn" text
              let rendered = render text diagnostics.Head
              Expect.stringStarts rendered "x.fnn:1:11: error: unexpected character '#'" "rendered"

          testCase "parseExpr reports errors" <| fun () ->
              match Parser.parseExpr "--set" "1 +" with
              | Error [ d ] ->
                  Expect.equal (at d.Range) "1:4" "position"
                  Expect.stringContains d.Message "the file ends here" "message"
              | other -> failtestf "unexpected %A" other

          testCase "parseExpr rejects trailing tokens" <| fun () ->
              match Parser.parseExpr "--set" "64 )" with
              | Error(d :: _) -> Expect.equal (at d.Range) "1:4" "position"
              | other -> failtestf "unexpected %A" other ]

/// Cuts, inserts and duplicates characters and tokens of the examples, deterministically.
let private mutations count =
    let rng = Random 20240611
    let alphabet = "()[]\"*/;,=>-|@+: \n\t#abx1.e'"
    [ for _ in 1..count do
          let mutable text = examples
          for _ in 0 .. rng.Next 3 do
              let i = rng.Next(text.Length + 1)
              match rng.Next 5 with
              | 0 when i < text.Length -> text <- text.Remove(i, 1)
              | 1 -> text <- text.Insert(i, string alphabet[rng.Next alphabet.Length])
              | 2 when i < text.Length -> text <- text.Insert(i, string text[i])
              | 3 ->
                  // a whole token: up to the next space
                  let j = text.IndexOfAny([| ' '; '\n' |], i)
                  let j = if j < 0 then text.Length else j
                  text <- text.Remove(i, j - i)
              | _ ->
                  let j = min text.Length (i + rng.Next 40)
                  text <- text.Insert(i, text.Substring(i, j - i))
          text ]

[<Tests>]
let robustnessTests =
    testList
        "Parser robustness"
        [ testCase "mutated examples never throw and every diagnostic points into the text" <| fun () ->
              for text in mutations 400 do
                  let lines = text.Split('\n').Length
                  let _, diagnostics = Parser.parse "mutant.fnn" text
                  for d in diagnostics do
                      if d.Range.Start.Line < 1 || d.Range.Start.Line > lines || d.Message.StartsWith "internal" then
                          failtestf "bad diagnostic %A for:\n%s" d text
                  Parser.parseExpr "mutant" text |> ignore

          testCase "every prefix of the examples parses without throwing" <| fun () ->
              for n in 0..7 .. examples.Length do
                  let text = examples.Substring(0, n)
                  let _, diagnostics = Parser.parse "prefix.fnn" text
                  for d in diagnostics do
                      if d.Message.StartsWith "internal" then failtestf "internal error at %d: %s" n d.Message

          testCase "deep nesting is a diagnostic, not a stack overflow" <| fun () ->
              for text in
                  [ "let a = " + System.String('(', 100000)
                    "let a = " + System.String('[', 100000)
                    "let a = " + System.String('-', 100000) + "1"
                    "let a = 2" + String.replicate 100000 " ** 2"
                    "let a = " + String.replicate 100000 "fun x -> " + "x" ] do
                  let _, diagnostics = Parser.parse "deep.fnn" text
                  Expect.isNonEmpty diagnostics "diagnostic"
                  Expect.stringContains diagnostics.Head.Message "nested too deeply" "message"

          testCase "odd inputs" <| fun () ->
              for text in [ ""; "\n\n"; "(*"; "\""; "///"; "\u0000"; "😀"; "let"; "model"; "train"; "import"; ")"; "]"; null ] do
                  Parser.parse "odd.fnn" text |> ignore
                  Parser.parseExpr "odd" text |> ignore ]
