using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Functional.Checkpoints;

/// <summary>
/// Maps the tensor names of weights made elsewhere (a PyTorch <c>state_dict</c>: <c>features.0.weight</c>,
/// <c>classifier.bias</c>) to a network's parameter paths (<c>enc.0.weight</c>, <c>head.bias</c>), for loading them
/// with the weight store's <c>Load(source, keyMap)</c>.
/// </summary>
/// <remarks>
/// A map is a list of rules <c>from=to</c>, tried in order; the first whose <c>from</c> matches the whole name
/// decides. A <c>*</c> in <c>from</c> matches any text (dots included, as short as possible when there are
/// several); the <c>*</c>s of <c>to</c> reproduce what they matched, in order (<c>features.*=enc.*</c> maps
/// <c>features.0.weight</c> to <c>enc.0.weight</c>). An empty <c>to</c> leaves the tensor out (a counter such as
/// batch norm's <c>num_batches_tracked</c>). A name that no rule matches is kept as it is.
/// </remarks>
public sealed class KeyMap
{
    /// <summary>The most bytes a key map file may have (a map of many thousands of rules fits).</summary>
    public const long FileLimit = 16L << 20;

    private readonly Rule[] rules;

    private KeyMap(Rule[] rules) => this.rules = rules;

    /// <summary>The map with no rules: every name is kept as it is.</summary>
    public static KeyMap Identity { get; } = new([]);

    /// <summary>The rules in the order they are tried, as (from, to) pairs; an empty <c>to</c> leaves a tensor out.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Rules => rules.Select(r => KeyValuePair.Create(r.From, r.To)).ToArray();

    /// <summary>
    /// Reads rules written as <c>from=to</c>, separated by <c>;</c> (or by line breaks), with spaces around them
    /// ignored: <c>"features.*=enc.*; classifier.*=head.*; *.num_batches_tracked="</c>.
    /// </summary>
    /// <exception cref="FormatException">no rules, or a rule that is malformed; the message quotes the rule and says what was expected</exception>
    public static KeyMap Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split([';', '\n', '\r'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new FormatException("the key map has no rules: expected from=to rules separated by ';', e.g. \"features.*=enc.*; classifier.*=head.*\"");
        return Parse(parts);
    }

    /// <summary>Reads rules given one to an item, each <c>from=to</c>.</summary>
    /// <exception cref="FormatException">a rule is malformed; the message quotes it and says what was expected</exception>
    public static KeyMap Parse(IEnumerable<string> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var pairs = new List<(string From, string To, string Text)>();
        var number = 0;
        foreach (var rule in rules)
        {
            number++;
            if (rule is null) throw new FormatException($"key map rule {number} is null: expected from=to");
            var at = rule.IndexOf('=');
            if (at < 0)
                throw new FormatException(
                    $"key map rule {number} '{Excerpt.@short(rule.Trim())}' has no '=': expected from=to (an empty to leaves the tensor out)");
            pairs.Add((rule[..at].Trim(), rule[(at + 1)..].Trim(), rule.Trim()));
        }
        return Build(pairs, number => $"key map rule {number}");
    }

    /// <summary>
    /// Reads a JSON file of one object whose keys are the <c>from</c>s and whose values the <c>to</c>s, tried in
    /// the file's order: <c>{"features.*": "enc.*", "version": ""}</c> (an empty string or null leaves a tensor out).
    /// The file is opened through <see cref="Functional.Files"/> (a regular file of at most <see cref="FileLimit"/> bytes).
    /// </summary>
    /// <exception cref="FileNotFoundException">there is no such file</exception>
    /// <exception cref="IOException">the path is not a regular file, or the file is too large</exception>
    /// <exception cref="FormatException">the file is not such a JSON object, or a rule is malformed; the message names the file and the rule</exception>
    public static KeyMap Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var text = Functional.Files.readText(FileLimit, path);
        var named = Excerpt.ofText(200, path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new FormatException($"{named}: not valid JSON ({Excerpt.ofText(200, e.Message)}): expected an object {{\"from\": \"to\", ...}}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new FormatException($"{named}: the key map is a JSON {Kind(root)}: expected an object {{\"from\": \"to\", ...}}");
            var pairs = new List<(string From, string To, string Text)>();
            foreach (var property in root.EnumerateObject())
            {
                var value = property.Value;
                var to = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString()!,
                    JsonValueKind.Null => "",
                    _ => throw new FormatException(
                        $"{named}: \"{Excerpt.@short(property.Name)}\" maps to a JSON {Kind(value)}: expected a string, the parameter path (\"\" or null leaves the tensor out)"),
                };
                pairs.Add((property.Name.Trim(), to.Trim(), $"{property.Name}={to}"));
            }
            if (pairs.Count == 0)
                throw new FormatException($"{named}: the key map has no rules: expected an object {{\"from\": \"to\", ...}}");
            return Build(pairs, number => $"{named}: rule {number}");
        }
    }

    /// <summary>
    /// The parameter path for <paramref name="name"/>: the first matching rule's <c>to</c> with its <c>*</c>s filled
    /// in, or <paramref name="name"/> itself when no rule matches; null when the matching rule leaves it out.
    /// </summary>
    public string? Map(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var rule in rules)
        {
            var match = rule.Pattern.Match(name);
            if (!match.Success) continue;
            if (rule.To.Length == 0) return null;
            if (rule.Stars == 0 || rule.ToStars == 0) return rule.To;
            var result = new StringBuilder();
            var pieces = rule.To.Split('*');
            for (var i = 0; i < pieces.Length; i++)
            {
                result.Append(pieces[i]);
                if (i < pieces.Length - 1) result.Append(match.Groups[i + 1].Value);
            }
            return result.ToString();
        }
        return name;
    }

    /// <summary>"features.*=enc.*; classifier.*=head.*": the rules as <see cref="Parse(string)"/> reads them.</summary>
    public override string ToString() => string.Join("; ", rules.Select(r => $"{r.From}={r.To}"));

    private static KeyMap Build(List<(string From, string To, string Text)> pairs, Func<int, string> where)
    {
        var built = new Rule[pairs.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < pairs.Count; i++)
        {
            var (from, to, text) = pairs[i];
            var place = $"{where(i + 1)} '{Excerpt.@short(text)}'";
            if (from.Length == 0)
                throw new FormatException($"{place}: the name before '=' is empty: expected from=to, the source's tensor name (with * for any text) and our parameter path");
            if (seen.TryGetValue(from, out var earlier))
                throw new FormatException($"{place}: '{Excerpt.@short(from)}' is already rule {earlier}'s from: the first matching rule wins, so this one would never apply");
            seen[from] = i + 1;
            var stars = from.Count(c => c == '*');
            var toStars = to.Count(c => c == '*');
            if (toStars != 0 && toStars != stars)
                throw new FormatException(
                    $"{place}: the path after '=' has {toStars} '*' but the name before it has {stars}: expected as many (each reproduces what its '*' matched) or none");
            var pattern = new Regex(
                "^" + Regex.Escape(from).Replace(@"\*", "(.*?)") + "$",
                RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
            built[i] = new Rule(from, to, stars, toStars, pattern);
        }
        return new KeyMap(built);
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "string",
    };

    private sealed record Rule(string From, string To, int Stars, int ToStars, Regex Pattern);
}
