using System.Globalization;

namespace Functional.Training.Optimization;

/// <summary>
/// Reads the <c>name=value</c> options of an optimizer or schedule (from the CLI or a <c>train</c> block):
/// option names are case-insensitive and '-' reads as '_'; every error names the option and, for an unknown
/// one, lists the valid ones.
/// </summary>
internal sealed class SpecOptions
{
    private readonly string _owner;
    private readonly Dictionary<string, string> _values;

    private SpecOptions(string owner, Dictionary<string, string> values)
    {
        _owner = owner;
        _values = values;
    }

    /// <summary>Normalises the names and rejects any that <paramref name="valid"/> lacks.</summary>
    public static SpecOptions Read(string owner, IReadOnlyDictionary<string, string>? options,
        IReadOnlyList<string> valid, IReadOnlyDictionary<string, string>? aliases = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (rawName, value) in options ?? new Dictionary<string, string>())
        {
            var name = Normalise(rawName);
            if (aliases is not null && aliases.TryGetValue(name, out var canonical)) name = canonical;
            if (!valid.Contains(name))
                throw new ArgumentException(valid.Count == 0
                    ? $"unknown option '{rawName}' for {owner}: it takes no options"
                    : $"unknown option '{rawName}' for {owner}: valid options are {string.Join(", ", valid)}");
            if (!values.TryAdd(name, value.Trim()))
                throw new ArgumentException($"option '{name}' of {owner} is given twice");
        }
        return new SpecOptions(owner, values);
    }

    public static string Normalise(string name) => name.Trim().ToLowerInvariant().Replace('-', '_');

    public double? Double(string name)
    {
        if (!_values.TryGetValue(name, out var text)) return null;
        return ParseDouble(name, text);
    }

    public int? Int(string name)
    {
        if (!_values.TryGetValue(name, out var text)) return null;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"option '{name}' of {_owner}: '{text}' is not a whole number");
        return value;
    }

    public bool? Bool(string name)
    {
        if (!_values.TryGetValue(name, out var text)) return null;
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" or "1" => true,
            "false" or "no" or "off" or "0" => false,
            _ => throw new ArgumentException($"option '{name}' of {_owner}: '{text}' is not true or false"),
        };
    }

    /// <summary>Two numbers written <c>a/b</c> (or <c>a:b</c>, or with a space between).</summary>
    public (double, double)? Pair(string name)
    {
        if (!_values.TryGetValue(name, out var text)) return null;
        var parts = text.Trim('(', ')', '[', ']').Split(['/', ':', ' ', ';'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
            throw new ArgumentException($"option '{name}' of {_owner}: '{text}' is not two numbers written a/b");
        return (ParseDouble(name, parts[0]), ParseDouble(name, parts[1]));
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    private double ParseDouble(string name, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"option '{name}' of {_owner}: '{text}' is not a number");
        return value;
    }

    /// <summary>
    /// Splits <c>name(a=1, b=2)</c> or a bare <c>name</c> into the name and its options; values must not
    /// contain commas (write pairs as <c>0.9/0.999</c>).
    /// </summary>
    public static (string Name, Dictionary<string, string> Options) SplitCall(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var open = trimmed.IndexOf('(');
        if (open < 0) return (trimmed, new Dictionary<string, string>());
        if (!trimmed.EndsWith(')'))
            throw new ArgumentException($"'{text}' is not {what}: expected name(option=value, ...)");
        var name = trimmed[..open].Trim();
        var options = new Dictionary<string, string>();
        var body = trimmed[(open + 1)..^1];
        foreach (var item in body.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = item.IndexOf('=');
            if (equals <= 0)
                throw new ArgumentException($"'{item}' in '{text}' is not option=value");
            if (!options.TryAdd(item[..equals].Trim(), item[(equals + 1)..].Trim()))
                throw new ArgumentException($"option '{item[..equals].Trim()}' is given twice in '{text}'");
        }
        return (name, options);
    }

    /// <summary>A number as the messages show it: invariant culture, shortest round-trip form.</summary>
    public static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);
}
