namespace Functional.Lang.Checking

/// One dimension of a per-example shape: a number, or a name the program leaves open (`seq`).
type Dim =
    | Known of int
    | Symbol of string

    override d.ToString() =
        match d with
        | Known n -> string n
        | Symbol s -> s

/// The shape of one example (the batch dimension is implicit); Tokens marks integer (token id) data.
type Shape =
    { Dims: Dim list
      Tokens: bool }

    override s.ToString() =
        let dims = s.Dims |> List.map string |> String.concat "; "
        sprintf "[%s]%s" dims (if s.Tokens then " int" else "")

module Shape =
    let ofInts dims = { Dims = List.map Known dims; Tokens = false }
    let scalar = { Dims = []; Tokens = false }
    let rank (s: Shape) = List.length s.Dims

    let last (s: Shape) = List.tryLast s.Dims

    /// The concrete sizes, when no dimension is symbolic.
    let tryInts (s: Shape) =
        let rec go acc dims =
            match dims with
            | [] -> Some(List.rev acc)
            | Known n :: rest -> go (n :: acc) rest
            | Symbol _ :: _ -> None
        go [] s.Dims


    let withLast dim (s: Shape) =
        match List.rev s.Dims with
        | [] -> { s with Dims = [ dim ] }
        | _ :: rest -> { s with Dims = List.rev (dim :: rest) }

    /// NumPy/PyTorch broadcasting of two shapes, aligned on the right.
    let broadcast (a: Shape) (b: Shape) =
        let pad n dims = List.replicate (n - List.length dims) (Known 1) @ dims
        let n = max (rank a) (rank b)
        let pairs = List.zip (pad n a.Dims) (pad n b.Dims)
        let dims =
            pairs
            |> List.map (fun (x, y) ->
                match x, y with
                | Known 1, d
                | d, Known 1 -> Some d
                | x, y when x = y -> Some x
                | _ -> None)
        if List.forall Option.isSome dims then
            Some { Dims = List.choose id dims; Tokens = false }
        else None

    /// Whether `actual` fits `declared`: the same rank, and equal numbers where `declared` has numbers
    /// (a symbolic dimension fits any size).
    let fits (declared: Shape) (actual: Shape) =
        rank declared = rank actual
        && List.forall2
            (fun d a ->
                match d, a with
                | Symbol _, _ -> true
                | Known x, Known y -> x = y
                | Known _, Symbol _ -> false)
            declared.Dims
            actual.Dims
