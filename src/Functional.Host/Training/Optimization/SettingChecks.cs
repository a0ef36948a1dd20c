using Functional.Lang.Checking;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace Functional.Training.Optimization;

/// <summary>
/// The C# builders' way into the language's rules (<c>TrainSettings</c>): the options a caller gave, and the
/// first problem with them as an exception that names the option.
/// </summary>
internal static class SettingChecks
{
    public static (string Name, SettingValue? Value) Real(string name, double? value) =>
        (name, value is { } v ? SettingValue.NewReal(v) : null);

    public static (string Name, SettingValue? Value) Integer(string name, int? value) =>
        (name, value is { } v ? SettingValue.NewInteger(v) : null);

    public static (string Name, SettingValue? Value) Flag(string name, bool? value) =>
        (name, value is { } v ? SettingValue.NewFlag(v) : null);

    public static (string Name, SettingValue? Value) Text(string name, string? value) =>
        (name, value is { } v ? SettingValue.NewText(v) : null);

    /// <summary>The options that were given (not null), as the rules take them.</summary>
    public static IEnumerable<Tuple<string, SettingValue>> Given(IEnumerable<(string Name, SettingValue? Value)> options) =>
        options.Where(o => o.Value is not null).Select(o => Tuple.Create(o.Name, o.Value!)).ToList();

    /// <summary>The checked value, or an <see cref="ArgumentOutOfRangeException"/> naming the offending option
    /// (an <see cref="ArgumentException"/> when the problem is with the whole, such as a warm-up without a length).</summary>
    public static T Unwrap<T>(FSharpResult<T, FSharpList<SettingError>> result)
    {
        if (result.IsOk) return result.ResultValue;
        var error = result.ErrorValue.Head;
        if (error.Option is { } option) throw new ArgumentOutOfRangeException(option.Value, error.Message);
        throw new ArgumentException(error.Message);
    }
}
