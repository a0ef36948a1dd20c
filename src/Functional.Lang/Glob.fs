/// The one rule for the globs that name parameters (`features.*`, `*.query.weight`): `*` stands for any
/// characters, dots included, `?` for exactly one; everything else is itself. Used by the weight store
/// (`WeightStore.Matching`) and by the checker's fine-tuning settings (`Checking.PathPatterns`).
module Functional.Lang.Glob

/// Whether the whole of `text` matches `pattern`. Linear in practice and at most the product of the
/// lengths (no backtracking regex), so that a pattern from the command line cannot make it slow.
let matches (pattern: string) (text: string) : bool =
    if isNull pattern || isNull text then false
    else
        let mutable p = 0
        let mutable t = 0
        // Where the last '*' was, and the text position it was last tried to cover up to.
        let mutable star = -1
        let mutable mark = 0
        let mutable result = None
        while result.IsNone do
            if t < text.Length then
                if p < pattern.Length && (pattern[p] = '?' || (pattern[p] <> '*' && pattern[p] = text[t])) then
                    p <- p + 1
                    t <- t + 1
                elif p < pattern.Length && pattern[p] = '*' then
                    star <- p
                    mark <- t
                    p <- p + 1
                elif star >= 0 then
                    // Let the last '*' cover one more character and try again after it.
                    p <- star + 1
                    mark <- mark + 1
                    t <- mark
                else
                    result <- Some false
            else
                while p < pattern.Length && pattern[p] = '*' do
                    p <- p + 1
                result <- Some(p = pattern.Length)
        result.Value
