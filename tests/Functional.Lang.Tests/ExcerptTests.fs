module Functional.Lang.Tests.ExcerptTests

open Expecto
open Functional

[<Tests>]
let tests =
    testList "excerpt" [
        test "short text is shown whole" {
            Expect.equal (Excerpt.ofText 10 "hello") "hello" "unchanged"
        }
        test "long text is cut and its length named" {
            Expect.equal (Excerpt.ofText 4 (String.replicate 1_000_000 "a")) "aaaa… (1000000 characters)" "cut"
        }
        test "control characters are escaped, so a message stays one printable line" {
            Expect.equal (Excerpt.ofText 20 "a\000b\nc\u001b") "a\\0b\\nc\\x1b" "escaped"
        }
        test "null and a bound below one are total" {
            Expect.equal (Excerpt.ofText 5 null) "" "null is empty"
            Expect.equal (Excerpt.ofText 0 "abc") "a… (3 characters)" "at least one character"
        }
    ]
