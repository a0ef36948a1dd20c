using Functional.Lang.Checking;

namespace Functional.FineTuning;

/// <summary>Patterns given in C# or on a command line, resolved against a network's paths with the language's rule
/// (<c>PathPatterns</c>): one that matches nothing is an <see cref="ArgumentException"/> naming the option it came from.</summary>
internal static class ParameterPatterns
{
    /// <summary>The paths of <paramref name="paths"/> that <paramref name="pattern"/> matches; none is an error.</summary>
    /// <param name="pattern">a glob</param>
    /// <param name="paths">the candidates (parameter paths, or projections' weight paths)</param>
    /// <param name="what">what the candidates are, for the message (<c>parameter</c>)</param>
    /// <param name="model">the network's name</param>
    /// <param name="option">the option the pattern came from (the exception's parameter name)</param>
    public static IReadOnlyList<string> Select(string pattern, IReadOnlyList<string> paths, string what, string model, string option)
    {
        if (string.IsNullOrWhiteSpace(pattern)) throw new ArgumentException("a pattern must not be empty", option);
        var list = Microsoft.FSharp.Collections.ListModule.OfSeq(paths);
        var matched = PathPatterns.select(pattern, list).ToList();
        if (matched.Count == 0) throw new ArgumentException(PathPatterns.noMatch(what, model, pattern, list), option);
        return matched;
    }
}
