using System.Text.Json.Nodes;

namespace Functional.Hostile.Corruptions;

/// <summary>Corruptions of a JSON file: every field removed, nulled or given a hostile value of each type.</summary>
internal static class JsonMutations
{
    private static readonly (string Name, Func<JsonNode?> Value)[] HostileValues =
    [
        ("null", () => null),
        ("\"\"", () => JsonValue.Create("")),
        ("0", () => JsonValue.Create(0)),
        ("-1", () => JsonValue.Create(-1)),
        ("-5", () => JsonValue.Create(-5)),
        ("2147483647", () => JsonValue.Create(int.MaxValue)),
        ("1e300", () => JsonValue.Create(1e300)),
        ("1.5", () => JsonValue.Create(1.5)),
        ("true", () => JsonValue.Create(true)),
        ("{}", () => new JsonObject()),
        ("[]", () => new JsonArray()),
        ("[null]", () => new JsonArray((JsonNode?)null)),
        ("a 100,000-character string", () => JsonValue.Create(new string('x', 100_000))),
        ("\"NaN\"", () => JsonValue.Create("NaN")),
    ];

    /// <summary>Every member and element of the document, depth first: its path as shown (<c>$.history[0].loss</c>)
    /// and as steps (member names and indices; names may hold dots, as safetensors keys do).</summary>
    public static List<(string Shown, object[] Steps)> Paths(JsonNode root)
    {
        var paths = new List<(string, object[])>();
        void Walk(JsonNode? node, string shown, object[] steps)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        var path = (shown + "." + key, (object[])[.. steps, key]);
                        paths.Add(path);
                        Walk(value, path.Item1, path.Item2);
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        var path = ($"{shown}[{i}]", (object[])[.. steps, i]);
                        paths.Add(path);
                        Walk(a[i], path.Item1, path.Item2);
                    }
                    break;
            }
        }
        Walk(root, "$", []);
        return paths;
    }

    /// <summary>The systematic ones: each path removed and set to hostile values (cycling through the values, so that
    /// every path and every value occurs, in about <c>paths × (1 + perPath)</c> attempts), plus whole-file ones.</summary>
    /// <remarks><c>Invalid</c> is true when no reader could accept the result: a field that had a value removed or
    /// nulled, or given a value of another JSON kind (a string for a number). A field that was null is optional: removing
    /// it changes nothing, and a value in it may be acceptable. A value of the same kind may still be valid (another loss, 0
    /// examples per second), so only a crash, a hang or an unclear message counts against it.</remarks>
    public static IEnumerable<(string What, string Text, bool Invalid)> Systematic(string text, int perPath)
    {
        var k = 0;
        foreach (var (shown, steps) in Paths(JsonNode.Parse(text)!))
        {
            yield return Change(text, shown, steps, remove: true, "", null);
            for (var i = 0; i < perPath; i++, k++)
            {
                var (name, value) = HostileValues[k % HostileValues.Length];
                yield return Change(text, shown, steps, remove: false, name, value());
            }
        }
        yield return ("empty file", "", true);
        yield return ("not JSON", "this is not json", true);
        yield return ("JSON null", "null", true);
        yield return ("a JSON array", "[]", true);
        yield return ("cut in half", text[..(text.Length / 2)], true);
        yield return ("nested 10,000 deep", new string('[', 10_000) + new string(']', 10_000), true);
    }

    /// <summary>One random corruption: a random path removed or given a random hostile value.</summary>
    public static (string What, string Text, bool Invalid) Random(string text, Random random)
    {
        var paths = Paths(JsonNode.Parse(text)!);
        var (shown, steps) = paths[random.Next(paths.Count)];
        if (random.Next(6) == 0) return Change(text, shown, steps, remove: true, "", null);
        var (name, value) = HostileValues[random.Next(HostileValues.Length)];
        return Change(text, shown, steps, remove: false, name, value());
    }

    private static (string What, string Text, bool Invalid) Change(string text, string shown, object[] steps, bool remove, string name, JsonNode? value)
    {
        var root = JsonNode.Parse(text)!;
        var parent = root;
        foreach (var step in steps[..^1]) parent = step is string key ? parent[key]! : parent[(int)step]!;
        JsonNode? old = null;
        switch (parent, steps[^1])
        {
            case (JsonObject o, string key):
                old = o[key];
                if (remove) o.Remove(key); else o[key] = value;
                break;
            case (JsonArray a, int index):
                old = a[index];
                if (remove) a.RemoveAt(index); else a[index] = value;
                break;
        }
        var invalid = old is not null && (remove || value is null || value.GetValueKind() != old.GetValueKind() && !IsBoolean(value, old));
        return (remove ? $"{shown} removed" : $"{shown} set to {name}", root.ToJsonString(), invalid);
    }

    private static bool IsBoolean(JsonNode a, JsonNode b) =>
        a.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False &&
        b.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False;
}
