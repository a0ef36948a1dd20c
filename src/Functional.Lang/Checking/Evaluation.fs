/// Checking, part one: evaluating expressions to values (numbers, layers, tensors in `fun` bodies,
/// functions) with every name resolved and every tensor shape inferred.
module Functional.Lang.Checking.Evaluation

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.Value
open Functional.Lang.Checking.LayerBuilders

type internal Binding =
    | Builtin of (Range -> Value)
    | Bound of Value

type internal Env = Map<string, Binding>

let internal fail = Checked.fail
let internal check = Checked.check

let internal undefined (env: Env) (id: Ident) =
    let hint =
        match Checked.suggest id.Name (Map.keys env) with
        | Some near -> sprintf "; did you mean '%s'?" near
        | None -> ""
    fail id.Range (sprintf "'%s' is not defined%s" id.Name hint)

let internal lookup (env: Env) (id: Ident) =
    match Map.tryFind id.Name env with
    // A let-bound layer is one layer, but each use is a place of its own for diagnostics.
    | Some(Bound(VLayer layer)) when layer.Share.IsSome -> Ok(VLayer { layer with Range = id.Range })
    | Some(Bound v) -> Ok v
    | Some(Builtin make) -> Ok(make id.Range)
    | None -> undefined env id

let internal bind name value (env: Env) : Env = Map.add name (Bound value) env

let internal opSymbol = BinaryOp.symbol

// ---------------------------------------------------------------------------------------------
// Tensor math: shapes per example, as NumPy/PyTorch define them.

let internal scalarTerm x = { Kind = Scalar x; Shape = Shape.scalar; Batched = false }

/// Shape of `a @ b` (torch.matmul's rules on per-example shapes).
let internal matmulShape range (a: Shape) (b: Shape) =
    let ra, rb = Shape.rank a, Shape.rank b
    if ra = 0 || rb = 0 then
        fail range (sprintf "@ multiplies tensors with at least one dimension, but got %O @ %O" a b)
    else
        let a' = if ra = 1 then Known 1 :: a.Dims else a.Dims
        let b' = if rb = 1 then b.Dims @ [ Known 1 ] else b.Dims
        let split dims = List.take (List.length dims - 2) dims, List.item (List.length dims - 2) dims, List.last dims
        let batchA, m, k = split a'
        let batchB, k', n = split b'
        if k <> k' then
            let which = if rb = 1 then "only dimension" else "first of its last two dimensions"
            fail range (sprintf "@ cannot multiply %O by %O: the left side's last dimension (%O) must equal the right side's %s (%O)" a b k which k')
        else
            match Shape.broadcast { Dims = batchA; Tokens = false } { Dims = batchB; Tokens = false } with
            | None -> fail range (sprintf "@ cannot multiply %O by %O: their leading dimensions do not broadcast" a b)
            | Some batch ->
                let dims = batch.Dims @ (if ra = 1 then [] else [ m ]) @ (if rb = 1 then [] else [ n ])
                Ok { Dims = dims; Tokens = false }

let internal tensorBinary range op (a: Term) (b: Term) =
    let shape =
        match op with
        | MatMul -> matmulShape range a.Shape b.Shape
        | _ ->
            match Shape.broadcast a.Shape b.Shape with
            | Some s -> Ok s
            | None -> fail range (sprintf "%s cannot combine shapes %O and %O: they do not broadcast" (opSymbol op) a.Shape b.Shape)
    shape |> Result.map (fun s -> VTensor { Kind = TermKind.Binary(op, a, b); Shape = s; Batched = a.Batched || b.Batched })

let internal numberBinary range op (a: Value) (b: Value) =
    match op, a, b with
    | MatMul, _, _ -> fail range "@ multiplies tensors, not numbers"
    | Divide, VInt _, VInt 0 -> fail range "division by zero"
    | (Add | Subtract | Multiply | Divide | Power), VInt x, VInt y when op <> Power || y >= 0 ->
        // Integer arithmetic is exact or an error, never a silent wrap-around.
        let exact =
            match op with
            | Add -> bigint x + bigint y
            | Subtract -> bigint x - bigint y
            | Multiply -> bigint x * bigint y
            | Divide -> bigint x / bigint y
            | _ when abs (int64 x) > 1L && y > 64 -> bigint System.Int64.MaxValue
            | _ -> bigint.Pow(bigint x, y)
        if exact > bigint System.Int32.MaxValue || exact < bigint System.Int32.MinValue then
            fail range (sprintf "%d %s %d is too large for an integer" x (opSymbol op) y)
        else Ok(VInt(int exact))
    | _ ->
        check {
            let! x = asFloat range (sprintf "the left side of %s" (opSymbol op)) a
            let! y = asFloat range (sprintf "the right side of %s" (opSymbol op)) b
            return
                VFloat(
                    match op with
                    | Add -> x + y
                    | Subtract -> x - y
                    | Multiply -> x * y
                    | Divide -> x / y
                    | Power -> x ** y
                    | MatMul -> nan
                )
        }

let internal binary range op (a: Value) (b: Value) =
    let asTerm v =
        match v with
        | VTensor t -> Some t
        | VInt n -> Some(scalarTerm (float n))
        | VFloat f -> Some(scalarTerm f)
        | _ -> None
    match a, b with
    | VError, _
    | _, VError -> Error []
    | (VInt _ | VFloat _), (VInt _ | VFloat _) -> numberBinary range op a b
    | (VTensor _, _ | _, VTensor _) ->
        match asTerm a, asTerm b with
        | Some x, Some y -> tensorBinary range op x y
        | None, _ -> fail range (sprintf "%s needs numbers or tensors, but its left side is %s" (opSymbol op) (describe a))
        | _, None -> fail range (sprintf "%s needs numbers or tensors, but its right side is %s" (opSymbol op) (describe b))
    | _ ->
        let bad = match a with VInt _ | VFloat _ -> b | _ -> a
        fail range (sprintf "%s needs numbers or tensors, but got %s" (opSymbol op) (describe bad))

// ---------------------------------------------------------------------------------------------
// Layers and application.

let internal applyLayer (layer: Layer) (arg: Value, at: Range) (call: Call) =
    match arg, call.Scope with
    | VError, _ -> Error []
    | VTensor t, Some scope ->
        // Unlabelled layers are numbered in the order the body applies them.
        let segment =
            match layer.Label with
            | Some _ -> ""
            | None ->
                let n = scope.Next.Value
                scope.Next.Value <- n + 1
                string n
        buildAt scope.Context segment layer t.Shape
        |> Result.map (fun node -> VTensor { Kind = TermKind.Layer(node, t); Shape = node.Output; Batched = t.Batched })
    | VTensor _, None -> fail call.Range (sprintf "%s can only be applied to a tensor inside a 'fun' body" layer.Name)
    | v, _ -> fail at (sprintf "%s is a layer: it applies to a tensor, but got %s" layer.Name (describe v))

/// Whether `xs` has at least `n` items, walking at most `n` of them (List.Length walks them all).
let rec private atLeast n (xs: 'a list) =
    n <= 0 || (match xs with [] -> false | _ :: rest -> atLeast (n - 1) rest)

/// One application of `f`: its result, and the call of that result on the arguments `f` did not take.
let private applyStep (f: Value, fRange: Range) (call: Call) : Checked<Value * Call option> =
    match f with
    | VError -> Error []
    | VFunction fn ->
        let unknown =
            call.Named
            |> Map.toList
            |> List.filter (fun (name, _) -> not (List.exists (fst >> (=) name) fn.Options))
        match unknown with
        | (name, (_, at)) :: _ ->
            let options =
                match fn.Options with
                | [] -> sprintf "%s takes no named options" fn.Name
                | opts -> sprintf "its options are %s" (opts |> List.map fst |> String.concat ", ")
            let hint =
                match Checked.suggest name (List.map fst fn.Options) with
                | Some near -> sprintf "did you mean '%s'? " near
                | None -> ""
            fail at (sprintf "%s has no option '%s'; %s%s" fn.Name name hint options)
        | [] ->
            let n = fn.Positional.Length
            if not (atLeast n call.Args) then
                // Partial application: remember what was given so far.
                let given = call
                Ok(
                    VFunction
                        { fn with
                            Positional = List.skip call.Args.Length fn.Positional
                            Invoke =
                                fun later ->
                                    fn.Invoke
                                        { later with
                                            Args = given.Args @ later.Args
                                            Named = Map.fold (fun m k v -> Map.add k v m) given.Named later.Named } }
                , None)
            else
                let now, rest = List.splitAt n call.Args
                fn.Invoke { call with Args = now }
                |> Result.map (fun result -> result, (if rest.IsEmpty then None else Some { call with Args = rest; Named = Map.empty }))
    | VLayer layer ->
        match call.Args with
        | [] -> fail fRange (sprintf "%s takes no named options" layer.Name)
        | arg :: rest ->
            if not call.Named.IsEmpty then
                fail (snd (Map.find (Seq.head (Map.keys call.Named)) call.Named)) (sprintf "%s takes no named options" layer.Name)
            else
                applyLayer layer arg call
                |> Result.map (fun result -> result, (if rest.IsEmpty then None else Some { call with Args = rest }))
    | v -> fail fRange (sprintf "%s is not a function: it cannot be applied to arguments" (describe v))

/// Applies `f` to a call's arguments; what its result takes of the rest is applied next, in a loop: a
/// chain like `f f f ... 1` (200,000 applications) costs linear time and no stack.
let internal apply (f: Value, fRange: Range) (call: Call) : Checked<Value> =
    let mutable step = applyStep (f, fRange) call
    let mutable result = None
    while result.IsNone do
        match step with
        | Ok(value, Some rest) -> step <- applyStep (value, rest.Range) rest
        | Ok(value, None) -> result <- Some(Ok value)
        | Error e -> result <- Some(Error e)
    result.Value

/// A let-bound layer is one layer wherever it is used, named by its let (unless it has a label).
let internal named (binding: LetBinding) (value: Value) =
    let share (layer: Layer) =
        VLayer
            { layer with
                Label = Some(defaultArg layer.Label binding.Name.Name)
                Share = Some(ShareKey binding.Name.Name) }
    match value, binding.Parameters with
    | VLayer layer, [] -> share layer
    // A layer-making function with every argument defaulted (a model, `block` with defaults) is a layer
    // value too when let-bound bare: `let e = Enc` shares like `let e = Enc (units = 4)`.
    | VFunction f, [] when f.Positional.IsEmpty ->
        match f.Invoke { Args = []; Named = Map.empty; Range = binding.Range; Scope = None } with
        | Ok(VLayer layer) -> share layer
        | _ -> value
    | _ -> value

let internal parameterTypes = [ "int"; "float"; "bool" ]

/// A value given for a parameter, checked against its type annotation (`(n: int)`), if any.
let internal conform what (p: Parameter) (value: Value) (at: Range) : Checked<Value> =
    match p.Type with
    | None -> Ok value
    | Some t ->
        match t.Name with
        | "int" -> asInt at what value |> Result.map VInt
        | "float" -> asFloat at what value |> Result.map VFloat
        | "bool" -> asBool at what value |> Result.map VBool
        | _ -> Ok value // an unknown type is reported where the parameter is declared

/// Type annotations that name no type.
let internal unknownTypes (parameters: Parameter list) =
    parameters
    |> List.choose (fun p -> p.Type)
    |> List.filter (fun t -> not (List.contains t.Name parameterTypes))
    |> List.map (fun t -> Diagnostic.error t.Range (sprintf "unknown type '%s': a parameter's type is int, float or bool" t.Name))

/// Evaluates an expression. `scope` is the `fun` body being built, if any.
let rec internal eval (env: Env) (scope: GraphScope option) (expr: Expr) : Checked<Value> =
    match expr with
    | Number(v, true, r) ->
        if abs v > float System.Int32.MaxValue then
            let shown = if System.Double.IsInfinity v then "this integer" else sprintf "the integer %g" v
            fail r (sprintf "%s is too large (integers are at most %d)" shown System.Int32.MaxValue)
        else Ok(VInt(int v))
    | Number(v, false, _) -> Ok(VFloat v)
    | Bool(b, _) -> Ok(VBool b)
    | String(s, _) -> Ok(VString s)
    | Var id -> lookup env id
    | Apply(f, args, r) ->
        check {
            let! fv = eval env scope f
            let positional = args |> List.choose (function Positional e -> Some e | Named _ -> None)
            let named = args |> List.choose (function Named(id, e, r) -> Some(id, e, r) | Positional _ -> None)
            let! values = positional |> List.map (fun e -> eval env scope e |> Result.map (fun v -> v, Expr.range e)) |> Checked.all
            let! options =
                named
                |> List.map (fun (id, e, _) -> eval env scope e |> Result.map (fun v -> id, (v, id.Range)))
                |> Checked.all
            let duplicate = options |> List.countBy (fun (id, _) -> id.Name) |> List.tryFind (fun (_, n) -> n > 1)
            match duplicate with
            | Some(name, _) ->
                let id, _ = options |> List.findBack (fun (id, _) -> id.Name = name)
                return! fail id.Range (sprintf "the option '%s' is given twice" name)
            | None ->
                let named = options |> List.map (fun (id, v) -> id.Name, v) |> Map.ofList
                return! apply (fv, Expr.range f) { Args = values; Named = named; Range = r; Scope = scope }
        }
    | Binary(op, a, b, r) ->
        check {
            let! x = eval env scope a
            let! y = eval env scope b
            return! binary r op x y
        }
    | Negate(e, r) ->
        eval env scope e
        |> Result.bind (function
            | VInt n when n = System.Int32.MinValue -> fail r (sprintf "-(%d) is too large for an integer" n)
            | VInt n -> Ok(VInt -n)
            | VFloat f -> Ok(VFloat -f)
            | VTensor t -> Ok(VTensor { t with Kind = Unary(Neg, t) })
            | VError -> Error []
            | v -> fail r (sprintf "'-' needs a number or a tensor, but got %s" (describe v)))
    | Compose(_, _, r) ->
        let rec steps e =
            match e with
            | Compose(a, b, _) -> steps a @ steps b
            | e -> [ e ]
        steps expr
        |> List.map (fun e -> eval env scope e |> Result.bind (fun v -> asLayer v (Expr.range e)))
        |> Checked.all
        |> Result.map (fun layers -> VLayer(chain layers r))
    | Pipe(x, f, r) ->
        check {
            let! xv = eval env scope x
            let! fv = eval env scope f
            return! apply (fv, Expr.range f) { Args = [ xv, Expr.range x ]; Named = Map.empty; Range = r; Scope = scope }
        }
    | Lambda(parameters, body, _) ->
        Ok(closure env "fun" (parameters |> List.map (fun id -> { Name = id; Type = None; Default = None })) body)
    | List(items, _) -> items |> List.map (eval env scope) |> Checked.all |> Result.map VList
    | Pair(a, b, _) ->
        check {
            let! x = eval env scope a
            let! y = eval env scope b
            return VPair(x, y)
        }
    | LetIn(binding, body, _) ->
        check {
            let! value = letValue env scope binding
            return! eval (bind binding.Name.Name (named binding value) env) scope body
        }
    | Labeled(e, label, _) ->
        eval env scope e
        |> Result.bind (fun v -> asLayer v (Expr.range e))
        |> Result.map (fun layer -> VLayer { layer with Label = Some label.Name })
    | With(baseExpr, replacements, r) ->
        let at = Expr.range baseExpr
        let notModel (v: Value) =
            fail at (sprintf "'with' replaces labelled parts of a declared model, but this is %s" (describe v))
        let baseLayer =
            eval env scope baseExpr
            |> Result.bind (fun v ->
                match v with
                | VError -> Error []
                | VLayer l when l.Model.IsSome -> Ok l
                | VFunction f when f.Positional.IsEmpty ->
                    asLayer v at |> Result.bind (fun l -> if l.Model.IsSome then Ok l else notModel v)
                | v -> notModel v)
        let paths = replacements |> List.map (fun rp -> Replacement.path rp, rp)
        let twice =
            paths
            |> List.groupBy fst
            |> List.collect (fun (path, group) ->
                group |> List.skip 1 |> List.map (fun (_, rp) -> Diagnostic.error (Replacement.pathRange rp) (sprintf "the part '%s' is replaced twice" path)))
        let nested =
            paths
            |> List.choose (fun (path, rp) ->
                paths
                |> List.tryFind (fun (outer, _) -> path.StartsWith(outer + ".", System.StringComparison.Ordinal))
                |> Option.map (fun (outer, _) ->
                    Diagnostic.error (Replacement.pathRange rp) (sprintf "'%s' is inside '%s', which is replaced as a whole" path outer)))
        check {
            let! baseLayer = baseLayer
            do! match twice @ nested with
                | [] -> Ok()
                | errors -> Error errors
            let! parts =
                replacements
                |> List.map (fun rp -> eval env scope rp.Value |> Result.bind (fun v -> asLayer v (Expr.range rp.Value)) |> Result.map (fun l -> rp, l))
                |> Checked.all
            return VLayer(replacing baseLayer.Model.Value baseLayer parts r)
        }

/// A user function: positional parameters, then options with defaults. Its body is evaluated at each
/// call, in the scope of the caller (so layers it applies are numbered where they are used).
/// A user function: positional parameters, then options with defaults. Its body is evaluated at each
/// call, in the scope of the caller (so layers it applies are numbered where they are used). Arguments
/// are checked against the parameters' type annotations at the call.
and internal closure (env: Env) name (parameters: Parameter list) body =
    let positional = parameters |> List.filter (fun p -> p.Default.IsNone)
    let options = parameters |> List.filter (fun p -> p.Default.IsSome)
    let typed (p: Parameter) value at = conform (sprintf "the argument '%s' of %s" p.Name.Name name) p value at
    VFunction
        { Name = name
          Positional = positional |> List.map (fun p -> p.Name.Name)
          // The defaults are evaluated at each call that does not give them.
          Options = options |> List.map (fun p -> p.Name.Name, VError)
          Invoke =
            fun call ->
                let given =
                    List.zip positional call.Args
                    |> List.map (fun (p, (v, at)) -> typed p v at |> Result.map (fun v -> p.Name.Name, v))
                let defaulted =
                    options
                    |> List.map (fun p ->
                        match Map.tryFind p.Name.Name call.Named with
                        | Some(v, at) -> typed p v at |> Result.map (fun v -> p.Name.Name, v)
                        | None ->
                            eval env call.Scope p.Default.Value
                            |> Result.bind (fun v -> typed p v (Expr.range p.Default.Value))
                            |> Result.map (fun v -> p.Name.Name, v))
                Checked.all (given @ defaulted)
                |> Result.bind (fun bindings ->
                    let full = bindings |> List.fold (fun e (n, v) -> bind n v e) env
                    eval full call.Scope body) }

and internal letValue env scope (binding: LetBinding) : Checked<Value> =
    let badTypes = unknownTypes binding.Parameters
    match binding.Parameters with
    | _ when not badTypes.IsEmpty -> Error badTypes
    | [] -> eval env scope binding.Value
    // Recursion is not allowed: the body sees the names defined before this let.
    | parameters -> Ok(closure env binding.Name.Name parameters binding.Value)
