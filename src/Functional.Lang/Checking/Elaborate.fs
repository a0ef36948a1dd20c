/// Checking: evaluates a parsed program with every name resolved and every shape inferred, before any
/// tensor exists. The result is the checked network (Network.fs) or every independent error.
module Functional.Lang.Checking.Elaborate

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.Value
open Functional.Lang.Checking.LayerBuilders

type private Binding =
    | Builtin of (Range -> Value)
    | Bound of Value

type private Env = Map<string, Binding>

let private fail = Checked.fail
let private check = Checked.check

let private undefined (env: Env) (id: Ident) =
    let hint =
        match Checked.suggest id.Name (Map.keys env) with
        | Some near -> sprintf "; did you mean '%s'?" near
        | None -> ""
    fail id.Range (sprintf "'%s' is not defined%s" id.Name hint)

let private lookup (env: Env) (id: Ident) =
    match Map.tryFind id.Name env with
    // A let-bound layer is one layer, but each use is a place of its own for diagnostics.
    | Some(Bound(VLayer layer)) when layer.Share.IsSome -> Ok(VLayer { layer with Range = id.Range })
    | Some(Bound v) -> Ok v
    | Some(Builtin make) -> Ok(make id.Range)
    | None -> undefined env id

let private bind name value (env: Env) : Env = Map.add name (Bound value) env

let private opSymbol = BinaryOp.symbol

// ---------------------------------------------------------------------------------------------
// Tensor math: shapes per example, as NumPy/PyTorch define them.

let private scalarTerm x = { Kind = Scalar x; Shape = Shape.scalar; Batched = false }

/// Shape of `a @ b` (torch.matmul's rules on per-example shapes).
let private matmulShape range (a: Shape) (b: Shape) =
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

let private tensorBinary range op (a: Term) (b: Term) =
    let shape =
        match op with
        | MatMul -> matmulShape range a.Shape b.Shape
        | _ ->
            match Shape.broadcast a.Shape b.Shape with
            | Some s -> Ok s
            | None -> fail range (sprintf "%s cannot combine shapes %O and %O: they do not broadcast" (opSymbol op) a.Shape b.Shape)
    shape |> Result.map (fun s -> VTensor { Kind = TermKind.Binary(op, a, b); Shape = s; Batched = a.Batched || b.Batched })

let private numberBinary range op (a: Value) (b: Value) =
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

let private binary range op (a: Value) (b: Value) =
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

let private applyLayer (layer: Layer) (arg: Value, at: Range) (call: Call) =
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

let rec private apply (f: Value, fRange: Range) (call: Call) : Checked<Value> =
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
            if call.Args.Length < n then
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
                )
            else
                let now, rest = List.splitAt n call.Args
                fn.Invoke { call with Args = now }
                |> Result.bind (fun result ->
                    if rest.IsEmpty then Ok result
                    else apply (result, call.Range) { call with Args = rest; Named = Map.empty })
    | VLayer layer ->
        match call.Args with
        | [] -> fail fRange (sprintf "%s takes no named options" layer.Name)
        | arg :: rest ->
            if not call.Named.IsEmpty then
                fail (snd (Map.find (Seq.head (Map.keys call.Named)) call.Named)) (sprintf "%s takes no named options" layer.Name)
            else
                applyLayer layer arg call
                |> Result.bind (fun result ->
                    if rest.IsEmpty then Ok result else apply (result, call.Range) { call with Args = rest })
    | v -> fail fRange (sprintf "%s is not a function: it cannot be applied to arguments" (describe v))

/// A let-bound layer is one layer wherever it is used, named by its let (unless it has a label).
let private named (binding: LetBinding) (value: Value) =
    match value, binding.Parameters with
    | VLayer layer, [] ->
        VLayer
            { layer with
                Label = Some(defaultArg layer.Label binding.Name.Name)
                Share = Some(ShareKey binding.Name.Name) }
    | _ -> value

let private parameterTypes = [ "int"; "float"; "bool" ]

/// A value given for a parameter, checked against its type annotation (`(n: int)`), if any.
let private conform what (p: Parameter) (value: Value) (at: Range) : Checked<Value> =
    match p.Type with
    | None -> Ok value
    | Some t ->
        match t.Name with
        | "int" -> asInt at what value |> Result.map VInt
        | "float" -> asFloat at what value |> Result.map VFloat
        | "bool" -> asBool at what value |> Result.map VBool
        | _ -> Ok value // an unknown type is reported where the parameter is declared

/// Type annotations that name no type.
let private unknownTypes (parameters: Parameter list) =
    parameters
    |> List.choose (fun p -> p.Type)
    |> List.filter (fun t -> not (List.contains t.Name parameterTypes))
    |> List.map (fun t -> Diagnostic.error t.Range (sprintf "unknown type '%s': a parameter's type is int, float or bool" t.Name))

/// Evaluates an expression. `scope` is the `fun` body being built, if any.
let rec private eval (env: Env) (scope: GraphScope option) (expr: Expr) : Checked<Value> =
    match expr with
    | Number(v, true, r) ->
        if abs v > float System.Int32.MaxValue then fail r (sprintf "the integer %g is too large" v)
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

/// A user function: positional parameters, then options with defaults. Its body is evaluated at each
/// call, in the scope of the caller (so layers it applies are numbered where they are used).
/// A user function: positional parameters, then options with defaults. Its body is evaluated at each
/// call, in the scope of the caller (so layers it applies are numbered where they are used). Arguments
/// are checked against the parameters' type annotations at the call.
and private closure (env: Env) name (parameters: Parameter list) body =
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

and private letValue env scope (binding: LetBinding) : Checked<Value> =
    let badTypes = unknownTypes binding.Parameters
    match binding.Parameters with
    | _ when not badTypes.IsEmpty -> Error badTypes
    | [] -> eval env scope binding.Value
    // Recursion is not allowed: the body sees the names defined before this let.
    | parameters -> Ok(closure env binding.Name.Name parameters binding.Value)

// ---------------------------------------------------------------------------------------------
// Declarations.

let private shapeOf (env: Env) (spec: ShapeSpec) : Checked<Shape> =
    let dim (e: Expr) =
        match e with
        | Var id when not (Map.containsKey id.Name env) -> Ok(Symbol id.Name)
        | e ->
            eval env None e
            |> Result.bind (function
                | VInt n when n > 0 -> Ok(Known n)
                | VInt n -> fail (Expr.range e) (sprintf "a dimension must be positive, but it is %d" n)
                | VError -> Error []
                | v -> fail (Expr.range e) (sprintf "a dimension must be a positive integer, but it is %s" (describe v)))
    check {
        let! dims = spec.Dims |> List.map dim |> Checked.all
        let! tokens =
            match spec.ElementType with
            | None -> Ok false
            | Some t when t.Name = "int" -> Ok true
            | Some t when t.Name = "float" -> Ok false
            | Some t -> fail t.Range (sprintf "unknown element type '%s': use 'int' for token ids or 'float' (the default)" t.Name)
        return { Dims = dims; Tokens = tokens }
    }

let private paramSpec (env: Env) (p: ParamDecl) : Checked<ParamSpec> =
    check {
        let! shape = shapeOf env p.Shape
        let! dims =
            match Shape.tryInts shape with
            | Some dims -> Ok dims
            | None ->
                let unknown = shape.Dims |> List.pick (function Symbol s -> Some s | Known _ -> None)
                let at = p.Shape.Dims |> List.tryPick (function Var id when id.Name = unknown -> Some id.Range | _ -> None)
                let hint =
                    match Checked.suggest unknown (Map.keys env) with
                    | Some near -> sprintf "; did you mean '%s'?" near
                    | None -> ""
                fail (defaultArg at p.Shape.Range) (sprintf "'%s' in the shape of %s is not defined: a parameter's dimensions are numbers or hyperparameters%s" unknown p.Name.Name hint)
        let! init =
            eval env None p.Init
            |> Result.bind (function
                | VInit i -> Ok i
                | VError -> Error []
                | v -> fail (Expr.range p.Init) (sprintf "%s's initialiser must be zeros, ones, xavier, he, normal std or uniform lo hi, but it is %s" p.Name.Name (describe v)))
        let at = Expr.range p.Init
        match init with
        | (Xavier | He) when dims.Length < 2 ->
            return! fail at (sprintf "%s needs a parameter with at least two dimensions (it reads their fan-in and fan-out), but %s is %O; use zeros, normal or uniform" (if init = Xavier then "xavier" else "he") p.Name.Name shape)
        | Normal std when not (std > 0.0) -> return! fail at (sprintf "normal needs a positive standard deviation, but it is %g" std)
        | Uniform(low, high) when not (low < high) -> return! fail at (sprintf "uniform needs low < high, but it is uniform %g %g" low high)
        | _ -> return { Name = p.Name.Name; Shape = dims; Init = init; Range = p.Range }
    }

let private duplicates (ids: Ident list) what =
    ids
    |> List.groupBy (fun id -> id.Name)
    |> List.collect (fun (name, group) ->
        group |> List.skip 1 |> List.map (fun id -> Diagnostic.error id.Range (sprintf "%s '%s' is defined twice" what name)))

/// Two layers with one path (the same label twice in a chain or a `fun` body) would share a name in
/// checkpoints: an error at the second.
let rec private duplicatePaths (node: Node) : Diagnostic list =
    let own = Node.children node |> List.filter (fun c -> match c.Op with Shared _ -> false | _ -> true)
    let clashes =
        own
        |> List.filter (fun c -> c.Path <> node.Path)
        |> List.groupBy (fun c -> c.Path)
        |> List.collect (fun (path, nodes) ->
            match nodes with
            | first :: second :: _ ->
                [ Diagnostic.error second.Range (sprintf "two layers here would both be named '%s': give them different labels" path)
                  |> Diagnostic.withRelated first.Range "the first one" ]
            | _ -> [])
    clashes @ List.collect duplicatePaths own

/// A model declaration checked up to its body: what using it, as a root or as a layer, needs.
type private ModelParts =
    { Hypers: (string * Value) list
      Input: Shape
      Output: Shape
      Params: ParamSpec list
      Body: Layer }

let private modelParts (env: Env) (overrides: Map<string, Value * Range>) (m: ModelDecl) : Checked<ModelParts> =
    check {
        do! match unknownTypes m.Hypers with
            | [] -> Ok()
            | errors -> Error errors
        let unknown =
            overrides
            |> Map.toList
            |> List.filter (fun (name, _) -> not (m.Hypers |> List.exists (fun h -> h.Name.Name = name)))
        do! match unknown with
            | [] -> Ok()
            | (name, (_, at)) :: _ ->
                let known = m.Hypers |> List.map (fun h -> h.Name.Name)
                let hint =
                    match Checked.suggest name known with
                    | Some near -> sprintf "did you mean '%s'? " near
                    | None -> ""
                fail at (sprintf "%s has no hyperparameter '%s'; %sits hyperparameters are %s" m.Name.Name name hint (if known.IsEmpty then "none" else String.concat ", " known))
        let! hypers =
            m.Hypers
            |> List.map (fun h ->
                let what = sprintf "the hyperparameter '%s' of %s" h.Name.Name m.Name.Name
                match Map.tryFind h.Name.Name overrides, h.Default with
                | Some(v, at), _ -> conform what h v at |> Result.map (fun v -> h.Name.Name, v)
                | None, Some d -> eval env None d |> Result.bind (fun v -> conform what h v (Expr.range d)) |> Result.map (fun v -> h.Name.Name, v)
                | None, None -> fail h.Name.Range (sprintf "the hyperparameter '%s' of %s needs a default value (%s = ...)" h.Name.Name m.Name.Name h.Name.Name))
            |> Checked.all
        let env = hypers |> List.fold (fun e (n, v) -> bind n v e) env
        let! input = shapeOf env m.Input
        let! output = shapeOf env m.Output
        do! match duplicates (m.Params |> List.map (fun p -> p.Name)) "the parameter" with
            | [] -> Ok()
            | errors -> Error errors
        let! parameters = m.Params |> List.map (paramSpec env) |> Checked.all
        let env =
            parameters
            |> List.fold (fun e p -> bind p.Name (VTensor { Kind = Param p.Name; Shape = Shape.ofInts p.Shape; Batched = false }) e) env
        let! body = eval env None m.Body
        let! layer = asLayer body (Expr.range m.Body)
        return { Hypers = hypers; Input = input; Output = output; Params = parameters; Body = layer }
    }

/// The model's node for an input: its body (under the body's label, if any), checked against the
/// declared output, inside its declared parameters.
let private buildModel (m: ModelDecl) (parts: ModelParts) (context: BuildContext) (input: Shape) : Checked<Node> =
    buildAt context "" parts.Body input
    |> Result.bind (fun body ->
        if not (Shape.fits parts.Output body.Output) then
            // Point at the step that made the output: the last of a chain, not the whole body.
            let rec producer (n: Node) =
                match n.Op with
                | Chain steps when not steps.IsEmpty -> producer (List.last steps)
                | _ -> n
            Diagnostic.error (producer body).Range (sprintf "model %s declares its output as %O, but its body produces %O" m.Name.Name parts.Output body.Output)
            |> Diagnostic.withRelated m.Output.Range "the declared output"
            |> List.singleton
            |> Error
        elif parts.Params.IsEmpty then Ok body
        else Ok { body with Path = context.Path; Name = m.Name.Name; Op = Parameters(parts.Params, body) })

let private describeValue v =
    match v with
    | VInt i -> string i
    | VFloat f -> string f
    | VBool b -> (if b then "true" else "false")
    | VString s -> s
    | other -> describe other

let private model (env: Env) (overrides: Map<string, Value * Range>) (m: ModelDecl) : Checked<Model> =
    check {
        let! parts = modelParts env overrides m
        let context = BuildContext.root ()
        let! node = buildModel m parts context parts.Input
        do! match duplicatePaths node with
            | [] -> Ok()
            | errors -> Error errors
        return
            { Name = m.Name.Name
              Doc = m.Doc
              Hyperparameters = parts.Hypers |> List.map (fun (n, v) -> n, describeValue v)
              Input = parts.Input
              Output = parts.Output
              Params = parts.Params
              Body = node
              Range = m.Range }
    }

/// A model used inside another is a layer with fresh weights at each use; its hyperparameters are its
/// options (`Encoder (depth = 2)`), and its input must fit its declared input.
let private modelValue (env: Env) (m: ModelDecl) =
    VFunction
        { Name = m.Name.Name
          Positional = []
          Options = m.Hypers |> List.map (fun h -> h.Name.Name, VError)
          Invoke =
            fun call ->
                modelParts env call.Named m
                |> Result.map (fun parts ->
                    VLayer
                        { Name = m.Name.Name
                          Range = call.Range
                          Label = None
                          Share = None
                          Build =
                            fun context input ->
                                if Shape.fits parts.Input input then buildModel m parts context input
                                else fail call.Range (sprintf "model %s takes %O, but its input here is %O" m.Name.Name parts.Input input) }) }

/// A nested list of numbers as a flat array and its shape.
let rec private literal (value: Value) : Result<float list * int list, string> =
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
let private lossOf (m: Model) (value: Value) (range: Range) : Checked<Loss> =
    match value with
    | VLoss l -> Ok l
    | VError -> Error []
    | VFunction f when f.Positional.Length = 2 ->
        let y = VTensor { Kind = Input; Shape = m.Output; Batched = true }
        let t = VTensor { Kind = Target; Shape = m.Output; Batched = true }
        let scope = { Context = { BuildContext.root () with Path = "loss" }; Next = ref 0 }
        f.Invoke { Args = [ y, range; t, range ]; Named = Map.empty; Range = range; Scope = Some scope }
        |> Result.bind (function
            | VTensor term when Shape.rank term.Shape = 0 ->
                match Term.layers term |> List.tryFind (fun n -> match n.Op with Activate _ -> false | _ -> true) with
                | Some layer -> fail layer.Range (sprintf "a loss can use activations, but no layer with weights like %s" layer.Name)
                | None -> Ok(Custom term)
            | VTensor term -> fail range (sprintf "a loss gives one number per example (use sum or mean), but this one gives %O" term.Shape)
            | VError -> Error []
            | v -> fail range (sprintf "a loss must return a number per example, but this one returns %s" (describe v)))
    | v -> fail range (sprintf "loss must be mse, bce, crossEntropy, nll, l1 or a function fun y t -> ..., but it is %s" (describe v))

let private trainPlan (env: Env) (declared: string list) (models: Model list) (t: TrainDecl) : Checked<TrainPlan> =
    let known = [ "data"; "loss"; "optimizer"; "epochs"; "batch" ]
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
                    valueOf "data" (fun v r -> examples v r) (fun () -> fail t.Range (sprintf "train %s needs its data: data = [ input => target; ... ]" m.Name))
                let! loss = valueOf "loss" (lossOf m) (fun () -> Ok MeanSquaredError)
                let optimizerOf v r =
                    match v with
                    | VOptimizer o -> Ok o
                    | VFunction f when f.Positional.IsEmpty ->
                        // `optimizer = sgd` means sgd with its defaults.
                        f.Invoke { Args = []; Named = Map.empty; Range = r; Scope = None }
                        |> Result.bind (function VOptimizer o -> Ok o | v -> fail r (sprintf "optimizer must be sgd or adam, but it is %s" (describe v)))
                    | VError -> Error []
                    | v -> fail r (sprintf "optimizer must be sgd or adam, but it is %s" (describe v))
                let! optimizer =
                    valueOf "optimizer" optimizerOf (fun () -> Ok { Name = "sgd"; LearningRate = 0.01; Momentum = 0.0 })
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
                      Epochs = epochs
                      Batch = batch
                      Range = t.Range }
            }
        results

/// What a file gives the files that import it: its top-level names (lets and models) and its models.
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
    let start = { Env = builtins; Models = []; Imported = []; Exported = Map.empty; Errors = [] }
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
              Trains = trains |> List.choose (function Ok t -> Some t | Error _ -> None) },
            { Values = exported; Models = models }
        )
    | all -> Error all
