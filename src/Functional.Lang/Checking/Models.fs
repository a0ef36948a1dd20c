/// Checking, part two: model declarations, their hyperparameters, declared parameters and bodies,
/// built into the checked network.
module Functional.Lang.Checking.Models

open Functional.Lang
open Functional.Lang.Syntax
open Functional.Lang.Checking.Value
open Functional.Lang.Checking.LayerBuilders
open Functional.Lang.Checking.Evaluation

/// A declared shape: numbers and hyperparameters are sizes, other names symbolic dimensions.
let internal shapeOf (env: Env) (spec: ShapeSpec) : Checked<Shape> =
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

let internal paramSpec (env: Env) (p: ParamDecl) : Checked<ParamSpec> =
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

let internal duplicates (ids: Ident list) what =
    ids
    |> List.groupBy (fun id -> id.Name)
    |> List.collect (fun (name, group) ->
        group |> List.skip 1 |> List.map (fun id -> Diagnostic.error id.Range (sprintf "%s '%s' is defined twice" what name)))

/// Two layers with one path (the same label twice in a chain or a `fun` body) would share a name in
/// checkpoints: an error at the second.
let rec internal duplicatePaths (node: Node) : Diagnostic list =
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
type internal ModelParts =
    { Hypers: (string * Value) list
      Input: Shape
      Output: Shape
      Params: ParamSpec list
      Body: Layer }

let internal modelParts (env: Env) (overrides: Map<string, Value * Range>) (m: ModelDecl) : Checked<ModelParts> =
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
/// A model whose parts a `with` around it replaced is held to the output of the model declaring the
/// `with`, not to its own.
let internal buildModel (m: ModelDecl) (parts: ModelParts) (context: BuildContext) (input: Shape) : Checked<Node> =
    let inside (k: string) = context.Path = "" || k = context.Path || k.StartsWith(context.Path + ".", System.StringComparison.Ordinal)
    let fromOutside = context.Replacements |> Map.filter (fun k _ -> inside k)
    let before = context.Replaced.Count
    buildAt context "" parts.Body input
    |> Result.bind (fun body ->
        let replaced = context.Replaced |> Seq.skip before |> Seq.exists fromOutside.ContainsKey
        if not replaced && not (Shape.fits parts.Output body.Output) then
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

let internal describeValue v =
    match v with
    | VInt i -> string i
    | VFloat f -> string f
    | VBool b -> (if b then "true" else "false")
    | VString s -> s
    | other -> describe other

let internal model (env: Env) (overrides: Map<string, Value * Range>) (m: ModelDecl) : Checked<Model> =
    check {
        // Command-line overrides apply to the models that have those hyperparameters.
        let own = overrides |> Map.filter (fun name _ -> m.Hypers |> List.exists (fun h -> h.Name.Name = name))
        let! parts = modelParts env own m
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
              Range = m.Range
              Replaced = context.Replaced |> Seq.distinct |> List.ofSeq }
    }

/// A model used inside another is a layer with fresh weights at each use; its hyperparameters are its
/// options (`Encoder (depth = 2)`), and its input must fit its declared input.
let internal modelValue (env: Env) (m: ModelDecl) =
    VFunction
        { Name = m.Name.Name
          Positional = []
          Options = m.Hypers |> List.map (fun h -> h.Name.Name, VError)
          Invoke =
            fun call ->
                modelParts env call.Named m
                |> Result.mapError (List.map (Diagnostic.withRelated call.Range (sprintf "in this use of %s" m.Name.Name)))
                |> Result.map (fun parts ->
                    VLayer
                        { Name = m.Name.Name
                          Range = call.Range
                          Label = None
                          Share = None
                          Model = Some m.Name.Name
                          Build =
                            fun context input ->
                                if Shape.fits parts.Input input then buildModel m parts context input
                                else fail call.Range (sprintf "model %s takes %O, but its input here is %O" m.Name.Name parts.Input input) }) }

/// A nested list of numbers as a flat array and its shape.
