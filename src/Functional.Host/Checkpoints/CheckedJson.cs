using System.Globalization;
using System.Text.Json;

namespace Functional.Checkpoints;

/// <summary>
/// Reads the fields of one of a checkpoint's JSON files, each required and checked: a missing, null, empty or
/// out-of-range field is a <see cref="CheckpointFormatException"/> naming the file, the field's JSON path
/// (<c>history[3].elapsedSeconds</c>) and what was expected. One rule for model.json and training.json.
/// </summary>
internal sealed class CheckedJson
{
    private CheckedJson(string file) => File = file;

    /// <summary>The file, as errors name it.</summary>
    public string File { get; }

    /// <summary>The file's root object, parsed from its bytes (a regular file of at most <paramref name="limit"/> bytes, UTF-8, no duplicate keys).</summary>
    public static (CheckedJson Json, JsonElement Root) Read(string path, long limit)
    {
        var bytes = Functional.Files.readBytes(limit, path);
        var json = new CheckedJson(path);
        if (bytes.Length == 0 || bytes.All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            throw new CheckpointFormatException(path, "it is empty (expected a JSON object)");
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
            var root = document.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"expected a JSON object, found {Found(root)}");
            return (json, root);
        }
        catch (JsonException e)
        {
            var at = e.LineNumber is { } line ? $" at {line + 1}:{(e.BytePositionInLine ?? 0) + 1}" : "";
            throw new CheckpointFormatException(path, $"it is not valid JSON{at}: {FirstSentence(e.Message)}", e);
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return Excerpt.ofText(200, cut > 0 ? message[..cut] : message);
    }

    /// <summary>What a value is, briefly, for "found ..." in messages.</summary>
    public static string Found(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "the string " + Excerpt.@short(value.GetRawText()),
        _ => Excerpt.@short(value.GetRawText()),
    };

    public CheckpointFormatException Error(string path, string problem) => new(File, $"{path}: {problem}");

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    /// <summary>The field <paramref name="name"/> of <paramref name="obj"/>, present and not null.</summary>
    public JsonElement Field(JsonElement obj, string path, string name)
    {
        var at = Join(path, name);
        if (!obj.TryGetProperty(name, out var value)) throw Error(at, "missing (it is required)");
        if (value.ValueKind == JsonValueKind.Null) throw Error(at, "is null (it is required)");
        return value;
    }

    /// <summary>The field, or null when it is absent or null.</summary>
    public static JsonElement? Optional(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public JsonElement Object(JsonElement obj, string path, string name)
    {
        var value = Field(obj, path, name);
        return value.ValueKind == JsonValueKind.Object ? value : throw Error(Join(path, name), $"expected an object, found {Found(value)}");
    }

    public JsonElement Array(JsonElement obj, string path, string name)
    {
        var value = Field(obj, path, name);
        return value.ValueKind == JsonValueKind.Array ? value : throw Error(Join(path, name), $"expected an array, found {Found(value)}");
    }

    public string Text(JsonElement obj, string path, string name, int maxLength = 1024) => Text(Field(obj, path, name), Join(path, name), maxLength);

    public string Text(JsonElement value, string at, int maxLength = 1024)
    {
        if (value.ValueKind != JsonValueKind.String) throw Error(at, $"expected a string, found {Found(value)}");
        var text = String(value, at);
        if (text.Length == 0) throw Error(at, "is empty (expected a non-empty string)");
        if (text.Length > maxLength) throw Error(at, $"expected at most {maxLength} characters, found {Found(value)}");
        return text;
    }

    /// <summary>A string value's text; an escaped lone surrogate (<c>"\ud800"</c>), which .NET cannot turn into a string, is
    /// this file's error, not a crash.</summary>
    public string String(JsonElement value, string at)
    {
        try { return value.GetString()!; }
        catch (InvalidOperationException) { throw Error(at, "holds an escaped lone surrogate (\\ud800 to \\udfff without its pair): not text"); }
    }

    public long Integer(JsonElement obj, string path, string name, long min, long max) => Integer(Field(obj, path, name), Join(path, name), min, max);

    public long Integer(JsonElement value, string at, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n) || n < min || n > max)
            throw Error(at, $"expected a whole number from {min} to {max}, found {Found(value)}");
        return n;
    }

    public int Int(JsonElement obj, string path, string name, int min, int max) => (int)Integer(obj, path, name, min, max);

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>]; NaN and infinities (written as
    /// "NaN", "Infinity", "-Infinity") only where <paramref name="allowed"/> admits them.</summary>
    public double Number(JsonElement obj, string path, string name, double min, double max, Func<double, bool>? allowed = null) =>
        Number(Field(obj, path, name), Join(path, name), min, max, allowed);

    public double Number(JsonElement value, string at, double min, double max, Func<double, bool>? allowed = null)
    {
        double? n = value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDouble(out var d) && double.IsFinite(d) => d,
            JsonValueKind.String when value.ValueEquals("NaN") => double.NaN,
            JsonValueKind.String when value.ValueEquals("Infinity") => double.PositiveInfinity,
            JsonValueKind.String when value.ValueEquals("-Infinity") => double.NegativeInfinity,
            _ => null,
        };
        if (n is { } x && ((x >= min && x <= max && double.IsFinite(x)) || (!double.IsFinite(x) && allowed?.Invoke(x) == true)))
            return x;
        var range = string.Create(CultureInfo.InvariantCulture, $"a number from {min:R} to {max:R}");
        throw Error(at, $"expected {range}, found {Found(value)}");
    }
}
