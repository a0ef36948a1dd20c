using System.Text;

namespace Functional.Hostile.Corruptions;

/// <summary>.fnn sources given to check and summary: encodings, sizes, nesting, long chains, and seeded edits of a valid one.</summary>
internal sealed class Sources : ICorruptions
{
    public string Kind => "source";

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        (string What, byte[] Bytes, bool MustFail)[] cases =
        [
            ("empty file", [], false),
            ("NUL bytes", [.. Encoding.UTF8.GetBytes("model A : [2] -> [1] =\n    dense 1"), 0, 0, 0], true),
            ("invalid UTF-8", [.. Encoding.UTF8.GetBytes("model A : [2] -> [1] =\n    dense "), 0xFF, 0xFE], true),
            ("100,000 nested parentheses", Encoding.UTF8.GetBytes("model A : [2] -> [1] =\n    " + new string('(', 100_000) + "dense 1" + new string(')', 100_000)), true),
            ("a chain of 200,000 applications", Encoding.UTF8.GetBytes("let f x = x\nlet y = " + string.Join(" ", Enumerable.Repeat("f", 200_000)) + " 1\n"), false),
            ("a 1 MB name", Encoding.UTF8.GetBytes("model A : [2] -> [1] =\n    " + new string('d', 1 << 20)), true),
            ("a number of a million digits", Encoding.UTF8.GetBytes("model A : [2] -> [1] =\n    dense " + new string('9', 1_000_000)), true),
            ("a width of 10^12", Encoding.UTF8.GetBytes("model A : [2] -> [1] =\n    dense 1000000000000 >> dense 1"), true),
            ("two layers of 100,000 units (10^10 weights: checked, never allocated)", Encoding.UTF8.GetBytes("model A : [100000] -> [1] =\n    dense 100000 >> dense 1"), false),
            ("an import of itself", Encoding.UTF8.GetBytes("import \"source.fnn\"\nmodel A : [2] -> [1] =\n    dense 1"), true),
            ("an import of a missing file", Encoding.UTF8.GetBytes("import \"missing.fnn\"\nmodel A : [2] -> [1] =\n    dense 1"), true),
        ];
        foreach (var (what, bytes, mustFail) in cases)
        {
            var check = Write(fixture, bytes);
            yield return new(Kind, what + " (check)", ["check", check], "source.fnn", mustFail);
            yield return new(Kind, what + " (summary)", ["summary", Write(fixture, bytes)], "source.fnn", mustFail);
        }
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var text = new StringBuilder(Fixture.SourceText);
        const string alphabet = "()[];:=>-|,.\"'\n\t 0123456789eE_aA@#\\";
        var edits = 1 + random.Next(4);
        for (var i = 0; i < edits; i++)
        {
            var at = random.Next(text.Length);
            switch (random.Next(4))
            {
                case 0: text.Remove(at, 1); break;
                case 1: text.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                case 2: text[at] = alphabet[random.Next(alphabet.Length)]; break;
                default:
                    var length = Math.Min(random.Next(1, 40), text.Length - at);
                    text.Insert(random.Next(text.Length), text.ToString(at, length));
                    break;
            }
        }
        var command = random.Next(3) == 0 ? "summary" : "check";
        return new(Kind, $"{edits} seeded edits of the suite's source ({command})", [command, Write(fixture, Encoding.UTF8.GetBytes(text.ToString()))], "source.fnn", MustFail: false);
    }

    private static string Write(Fixture fixture, byte[] bytes)
    {
        var path = Path.Combine(fixture.NewFolder(), "source.fnn");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
