using System.Globalization;
using System.Text.Json;

namespace Functional.Service;

/// <summary>Reads a request's JSON body and its fields, with errors that say which field was wrong and how.</summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 8 };

    /// <summary>The body's JSON object.</summary>
    /// <exception cref="RequestFormatException">the body is empty, not JSON, or not an object</exception>
    public static async Task<JsonElement> ReadObjectAsync(HttpRequest request, CancellationToken cancellation)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, Options, cancellation);
        }
        catch (JsonException e)
        {
            throw new RequestFormatException($"the body is not valid JSON: {e.Message.Split(" Path:")[0]}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new RequestFormatException($"the body is a JSON {Kind(document.RootElement)}; expected an object");
            return document.RootElement.Clone();
        }
    }

    /// <summary>One example: an array of numbers (JSON numbers, or the strings "NaN", "Infinity", "-Infinity").</summary>
    public static float[] Numbers(JsonElement array, string field)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new RequestFormatException($"'{field}' is a JSON {Kind(array)}; expected an array of numbers");
        var values = new float[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            values[i] = item.ValueKind switch
            {
                JsonValueKind.Number => (float)item.GetDouble(),
                JsonValueKind.String when item.GetString() is "NaN" or "Infinity" or "-Infinity" =>
                    float.Parse(item.GetString()!, CultureInfo.InvariantCulture),
                _ => throw new RequestFormatException($"'{field}[{i}]' is a JSON {Kind(item)}; expected a number"),
            };
            i++;
        }
        return values;
    }

    /// <summary>The examples of a predict request: <c>{"input": [...]}</c> (one) or <c>{"inputs": [[...], ...]}</c>.</summary>
    public static (List<float[]> Inputs, bool Several) Examples(JsonElement body)
    {
        var hasOne = body.TryGetProperty("input", out var one);
        var hasMany = body.TryGetProperty("inputs", out var many);
        if (hasOne == hasMany)
            throw new RequestFormatException(hasOne
                ? "the body has both 'input' and 'inputs'; give one"
                : "the body has no 'input' (one example: an array of numbers) or 'inputs' (several: an array of arrays)");
        if (hasOne) return ([Numbers(one, "input")], false);
        if (many.ValueKind != JsonValueKind.Array)
            throw new RequestFormatException($"'inputs' is a JSON {Kind(many)}; expected an array of arrays of numbers");
        return (many.EnumerateArray().Select((e, i) => Numbers(e, $"inputs[{i}]")).ToList(), true);
    }

    /// <summary>An optional whole number field.</summary>
    public static int? Integer(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n)) return n;
        throw new RequestFormatException($"'{field}' is {Describe(value)}; expected a whole number");
    }

    /// <summary>An optional number field.</summary>
    public static double? Number(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        throw new RequestFormatException($"'{field}' is {Describe(value)}; expected a number");
    }

    /// <summary>A string field; required ones must be there.</summary>
    public static string? Text(JsonElement body, string field, bool required)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            return required ? throw new RequestFormatException($"the body has no '{field}'") : null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        throw new RequestFormatException($"'{field}' is {Describe(value)}; expected a string");
    }

    /// <summary>An optional array of strings.</summary>
    public static List<string>? Texts(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw new RequestFormatException($"'{field}' is {Describe(value)}; expected an array of strings");
        return value.EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    private static string Describe(JsonElement value) =>
        value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
            ? Excerpt.@short(value.GetRawText())
            : $"a JSON {Kind(value)}";

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
