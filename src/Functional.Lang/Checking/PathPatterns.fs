/// Globs over a model's paths, for fine-tuning: which parameters to freeze, which learning rate each
/// takes, which projection weights get LoRA adapters. One rule (`Glob`), the paths it is matched against,
/// and the message for a pattern that matches nothing, shared by the checker (train blocks) and the host
/// (command-line patterns).
module Functional.Lang.Checking.PathPatterns

open Functional.Lang
open Functional.Lang.Layers

/// Whether the whole path matches the pattern: `*` any characters (dots included), `?` one.
let matches (pattern: string) (path: string) : bool = Glob.matches pattern path

/// The paths the pattern matches, in their order.
let select (pattern: string) (paths: string list) : string list = paths |> List.filter (matches pattern)

/// The model's trainable parameters (not its buffers), in the order the model is walked, from the
/// checked model alone (no tensor is made): what `freeze`, `lrFor` and `trainable` match.
let parameters (model: Model) : string list =
    [ for node in Node.walk model.Body do
          match node.Op with
          | Primitive p ->
              for w in p.Weights do
                  if w.Role = Functional.Lang.Compilation.WeightRole.Parameter then yield Node.join node.Path w.Name
          | Parameters(specs, _) ->
              for s in specs do
                  yield Node.join node.Path s.Name
          | _ -> () ]
    |> List.distinct

/// The weight of every linear projection (a layer's `Traits.Projections`: `head.weight` for a dense,
/// `3.query.weight` ... `3.output.weight` for an attention): what LoRA's `on` patterns match.
let projectionWeights (model: Model) : string list =
    [ for node in Node.walk model.Body do
          match node.Op with
          | Primitive p ->
              for projection in p.Traits.Projections do
                  yield Node.join (Node.join node.Path projection) "weight"
          | _ -> () ]
    |> List.distinct

/// What LoRA's `on` patterns are matched against, as `noMatch` names it.
let projectionWhat = "projection (dense or attention query/key/value/output weight)"

/// What `freeze`, `lrFor` and `trainable` patterns are matched against, as `noMatch` names it.
let parameterWhat = "parameter"

/// Patterns near one that matched nothing: each path, each path's prefix at a dot followed by `.*`, and
/// `*.` followed by each suffix after a dot.
let private candidates (paths: string list) =
    [ for path in paths do
          yield path
          let parts = path.Split '.'
          for i in 1 .. parts.Length - 1 do
              yield String.concat "." parts[.. i - 1] + ".*"
              yield "*." + String.concat "." parts[i..] ]
    |> List.distinct

/// The pattern nearest to one that matches nothing, among patterns that do match, if one is close
/// (the project's edit-distance rule for "did you mean").
let suggest (pattern: string) (paths: string list) : string option =
    if isNull pattern then None else Checked.suggest pattern (candidates paths)

/// The message for a pattern that matches none of `paths`: `the pattern 'feature.*' matches no parameter
/// of M; did you mean 'features.*'?`, or some of the paths when none is near. `what` names the kind of
/// path (`parameter`).
let noMatch (what: string) (modelName: string) (pattern: string) (paths: string list) : string =
    let shown = sprintf "'%s'" (Functional.Excerpt.short pattern)
    let hint =
        match suggest pattern paths with
        | Some near -> sprintf "did you mean '%s'?" near
        | None ->
            match paths with
            | [] -> "it has none"
            | _ when paths.Length <= 6 -> sprintf "they are %s" (String.concat ", " paths)
            | _ -> sprintf "they include %s, ... (%d in all)" (String.concat ", " (List.truncate 5 paths)) paths.Length
    sprintf "the pattern %s matches no %s of %s; %s" shown what modelName hint
