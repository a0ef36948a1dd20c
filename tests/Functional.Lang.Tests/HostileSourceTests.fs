/// Diagnostics about hostile sources stay short: a long line is shown in part with the caret still under its
/// place, a huge name or number is quoted in part, and nothing is quoted whole.
module Functional.Lang.Tests.HostileSourceTests

open Expecto
open Functional.Lang
open Functional.Lang.Tests.TestSupport

let private rendered (text: string) = Language.render "test.fnn" text (errors text)

[<Tests>]
let tests =
    testList "hostile sources" [
        test "a megabyte line is shown in part, the caret under the place" {
            let text = "let x = [" + String.replicate 100_000 "1; " + "nosuch]\n"
            let shown = rendered text
            Expect.isLessThan shown.Length 1_000 "short"
            let lines = shown.Split('\n')
            let source = lines |> Array.find (fun l -> l.StartsWith "1 | ")
            let caret = lines |> Array.find (fun l -> l.TrimStart().StartsWith "| " && l.Contains "^")
            Expect.stringContains source "…" "cut marked"
            Expect.equal (source.Substring(caret.IndexOf '^', 6)) "nosuch" "the caret is under the unknown name"
        }
        test "a name of a megabyte is quoted in part" {
            let name = String.replicate (1 <<< 20) "d"
            let first = errors ("model A : [2] -> [1] =\n    " + name) |> List.head
            Expect.isLessThan first.Message.Length 500 "short"
            Expect.stringContains first.Message " characters)" "says how long it was"
        }
        test "an integer of a million digits is too large, not 'Infinity'" {
            let first = errors ("model A : [2] -> [1] =\n    dense " + String.replicate 1_000_000 "9") |> List.head
            Expect.equal first.Message "this integer is too large (integers are at most 2147483647)" "message"
            Expect.equal (place first) "2:11" "at the number"
        }
    ]
