namespace Functional.Hostile.Corruptions;

/// <summary>Hostile values of the command line's flags: numbers out of range or not numbers, settings texts that do not
/// parse, devices that do not exist, inputs of the wrong size.</summary>
internal sealed class Flags : ICorruptions
{
    public string Kind => "flag";

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var train = new[] { "train", fixture.Source, "--model", "Tiny" };
        (string Flag, string Value, bool MustFail)[] trainFlags =
        [
            ("--epochs", "0", true), ("--epochs", "-1", true), ("--epochs", "2147483648", true), ("--epochs", "x", true),
            ("--lr", "0", true), ("--lr", "-1", true), ("--lr", "1e300", true), ("--lr", "NaN", true), ("--lr", "Infinity", true),
            ("--batch", "0", true), ("--batch", "-1", true), ("--batch", "2147483647", false),
            ("--seed", "-1", false), ("--seed", "99999999999999999999", true),
            ("--valid-split", "0", false), ("--valid-split", "1", true), ("--valid-split", "-0.5", true), ("--valid-split", "NaN", true),
            ("--patience", "0", false), ("--patience", "-3", true),
            ("--optimizer", "adam(lr=1e999)", true), ("--optimizer", "adam(", true), ("--optimizer", "nosuch()", true),
            ("--optimizer", "adam(lr=" + new string('9', 100_000) + ")", true), ("--optimizer", "adam(eps=0)", true), ("--optimizer", "sgd(momentum=-1)", true),
            ("--schedule", "cosine(epochs=-1)", true), ("--schedule", "stepDecay(every=0, gamma=0.1)", true), ("--schedule", ")", true),
            ("--device", "cuda:99", true), ("--device", "tpu", true), ("--device", "cuda:-1", true),
            ("--set", "nosuch=1", true), ("--set", "=", true),
            ("--normalize", "scale:0", true), ("--normalize", "scale:-1", true), ("--normalize", "scale:NaN", true), ("--normalize", "bogus", true),
        ];
        foreach (var (flag, value, mustFail) in trainFlags)
            yield return new(Kind, $"train {flag} {Excerpt(value)}", [.. train, "--out", Path.Combine(fixture.NewFolder(), "out"), flag, value],
                CulpritOf(flag, value), mustFail);
        // --classes on the Classes model ([2] -> [3]) and its CSV file (classes c0, c1, c2): each selection must make
        // three classes of the file's, or be refused naming the flag.
        (string Value, bool MustFail)[] classes =
        [
            ("", true), (";", true), ("a", true), ("=c0; b=c1; c=c2", true), ("a=; b=c1; c=c2", true), ("a=c0,,c1; b=c2", true),
            ("a=c0; a=c1; c=c2", true), ("a=c0; b=c0; c=c2", true), ("a=c0; b=c1", true), ("a=c0", true), ("a=c0; b=c1; c=c9", true),
            ("a=0; b=1; c=3", true), ("a=0; b=1; c=-1", true), ("a=0; b=1; c=99999999999", true), ("a=0; b=1; c=2; d=", true),
            ("a=0; b=1; c=2", true), (new string('x', 100_000) + "=0; b=1; c=2", true), (string.Join(";", Enumerable.Range(0, 10_000).Select(i => $"n{i}={i}")), true),
            ("a=c0; b=c1; c=c2", false), ("c=c2; b=1; a=c0", false), ("a = 0 ; b = 1 ; c = 2 ;", false),
        ];
        foreach (var (value, mustFail) in classes)
            yield return new(Kind, $"train --classes {Excerpt(value)}",
                ["train", fixture.Source, "--model", "Classes", "--data", fixture.Csv, "--out", Path.Combine(fixture.NewFolder(), "out"), "--classes", value],
                "--classes", mustFail);
        // fnn train --text's own flags, on the Chars model (input [8] int, embed 24).
        (string Flag, string Value, bool MustFail)[] textFlags =
        [
            ("--tokenizer", "words", true), ("--tokenizer", "", true), ("--tokenizer", "char", false),
            ("--context", "0", true), ("--context", "-1", true), ("--context", "9", true), ("--context", "x", true), ("--context", "8", false),
            ("--sampling", "bogus", true), ("--sampling", "sequential", false),
            ("--valid-split", "0.99", false), ("--valid-split", "1", true), ("--valid-split", "NaN", true),
        ];
        foreach (var (flag, value, mustFail) in textFlags)
            yield return new(Kind, $"train --text {flag} {Excerpt(value)}",
                ["train", fixture.Source, "--model", "Chars", "--text", fixture.Text, "--epochs", "1", "--out", Path.Combine(fixture.NewFolder(), "out"), flag, value],
                CulpritOf(flag, value), mustFail);
        // fnn finetune's flags, from the Tiny checkpoint (paths 0.weight, 0.bias, 2.weight, 2.bias).
        (string Flag, string Value, bool MustFail)[] finetuneFlags =
        [
            ("--freeze", "", true), ("--freeze", "x.*", true), ("--freeze", "*", true), ("--freeze", "[", true), ("--freeze", "\u0007\u001b[2J", true),
            ("--freeze", new string('*', 10_000) + "x", true), ("--freeze", new string('a', 100_000), true), ("--freeze", "0.*", false),
            ("--unfreeze-at", "0", true), ("--unfreeze-at", "-1", true), ("--unfreeze-at", "2147483647", true), ("--unfreeze-at", "x", true),
            ("--lr-for", "", true), ("--lr-for", "0.*", true), ("--lr-for", "0.*=NaN", true), ("--lr-for", "0.*=-1", true), ("--lr-for", "0.*=1e999", true),
            ("--lr-for", "=0.1", true), ("--lr-for", "x.*=0.1", true), ("--lr-for", "0.*=0.01", false),
            ("--lora", "rank=0", true), ("--lora", "rank=5000", true), ("--lora", "rank=2.5", true), ("--lora", "dropout=1", true),
            ("--lora", "alpha=NaN", true), ("--lora", "alpha=-1", true), ("--lora", "rank", true), ("--lora", "nosuch=1", true), ("--lora", "rank=1, rank=2", true),
            ("--lora", "r=2, lora_alpha=4", false), ("--lora-on", "", true), ("--lora-on", "*.query.weight", true), ("--lora-on", "0.bias", true),
            ("--trainable", "2.*", true), ("--key-map", "=", true), ("--key-map", "a", true), ("--key-map", "*=**", true), ("--key-map", "0.*=0.*", false),
        ];
        foreach (var (flag, value, mustFail) in finetuneFlags)
        {
            var text = System.Text.RegularExpressions.Regex.Unescape(value);
            // --lora alone asks for --lora-on; --lora-on alone takes the default settings.
            string[] extra = flag == "--lora" ? ["--lora-on", "*"] : [];
            yield return new(Kind, $"finetune {flag} {Excerpt(value)}",
                ["finetune", fixture.Source, "--model", "Tiny", "--from", fixture.Checkpoint, "--epochs", "2", "--out", Path.Combine(fixture.NewFolder(), "out"), .. extra, flag, text],
                flag, mustFail);
        }
        foreach (var (value, mustFail) in new[] { ("dim=99999999999", true), ("dim=-1", true), ("dim=0", true), ("dim=abc", true), ("dim=1e3", true), ("dim=4", false) })
            yield return new(Kind, $"summary --set {value}", ["summary", fixture.Source, "--model", "Wide", "--set", value], "dim", mustFail);
        foreach (var (value, mustFail) in new[] { ("", true), ("NaN,1", true), ("1e39,0", true), ("1,2,3", true), ("1", true), (string.Join(",", Enumerable.Repeat("1", 100_000)), true), ("0,1", false) })
            yield return new(Kind, $"predict --input {Excerpt(value)}", ["predict", fixture.Source, "--weights", fixture.Checkpoint, "--input", value], "--input", mustFail);
        (string Flag, string Value, bool MustFail)[] generateFlags =
        [
            ("--tokens", "0", true), ("--tokens", "-1", true), ("--tokens", "x", true), ("--tokens", "2147483648", true),
            ("--temperature", "-1", true), ("--temperature", "NaN", true), ("--temperature", "Infinity", true), ("--temperature", "0", false),
            ("--top-k", "0", true), ("--top-k", "-5", true), ("--top-k", "2147483647", false),
            ("--top-p", "0", true), ("--top-p", "1.5", true), ("--top-p", "NaN", true), ("--top-p", "1e-300", false),
            ("--seed", "-1", false), ("--seed", "99999999999", true), ("--stop", "", true), ("--stop", "a", false),
            ("--prompt", "\u0007\u0000\u001b[2J", true), ("--prompt", "\ud83d\ude00 emoji", true), ("--prompt", "zzz", true),
            ("--prompt", new string('a', 100_000), false), ("--prompt", "the cat", false), ("--device", "cuda:99", true),
        ];
        foreach (var (flag, value, mustFail) in generateFlags)
        {
            var text = flag == "--prompt" ? System.Text.RegularExpressions.Regex.Unescape(value) : value;
            string[] tokens = flag == "--tokens" ? [] : ["--tokens", "3"];
            yield return new(Kind, $"generate {flag} {Excerpt(value)}",
                ["generate", fixture.Source, "--weights", fixture.TextCheckpoint, .. tokens, flag, text], CulpritOf(flag, value), mustFail);
        }
    }

    /// <summary>The list is complete: a random draw repeats one of its cases.</summary>
    public Attempt Random(Fixture fixture, Random random)
    {
        count ??= Systematic(fixture).Count();
        return Systematic(fixture).ElementAt(random.Next(count.Value));
    }

    private int? count;

    // A message must name the flag, except for a device (it names the device) and a settings text, whose diagnostics point
    // into it as "--optimizer:1:6" (and so name it too).
    private static string CulpritOf(string flag, string value) => flag == "--device" ? value : flag;

    private static string Excerpt(string value) => value.Length <= 40 ? value : value[..40] + $"… ({value.Length} characters)";
}
