namespace Functional.Lang.Syntax

/// A place in a source file: 1-based line and column (columns count UTF-16 code units).
[<Struct>]
type Position = { Line: int; Column: int }

/// A span of source text; End is exclusive. File is the path as the user gave it.
type Range =
    { File: string; Start: Position; End: Position }

    override r.ToString() = sprintf "%s:%d:%d" r.File r.Start.Line r.Start.Column

module Range =
    let make file (l1, c1) (l2, c2) =
        { File = file; Start = { Line = l1; Column = c1 }; End = { Line = l2; Column = c2 } }

    /// The smallest range covering both.
    let union (a: Range) (b: Range) =
        let before (p: Position) (q: Position) = p.Line < q.Line || (p.Line = q.Line && p.Column <= q.Column)
        { File = a.File
          Start = if before a.Start b.Start then a.Start else b.Start
          End = if before a.End b.End then b.End else a.End }

    /// Where compiler-made things live (builtins, command-line overrides).
    let none = make "<builtin>" (0, 0) (0, 0)
