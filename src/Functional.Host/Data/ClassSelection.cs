using System.Globalization;

namespace Functional.Data;

/// <summary>
/// Which classes of a labelled data set to keep and what they become: <c>"top=0,2,4,6; other=1,3,5,7,8,9"</c>
/// keeps the examples of source classes 0 to 9 and relabels them to two new classes, <c>top</c> (0) and
/// <c>other</c> (1), numbered in the order they are written. Applied with
/// <see cref="DatasetExtensions.SelectClasses"/>, so that a new head can learn a new task from the same files.
/// </summary>
/// <remarks>
/// Groups are separated by <c>;</c>, each <c>name=classes</c> with the source classes separated by <c>,</c>;
/// spaces around names and classes are ignored. A source class is its index (from 0) or, when the data names its
/// classes (a CSV file's labels), its name; a name is tried first, so a class named <c>"3"</c> is that class.
/// </remarks>
public sealed class ClassSelection
{
    /// <summary>The most characters a new class's name may have (names are saved in model.json and printed).</summary>
    public const int MaxNameLength = 200;

    private readonly Dictionary<int, int> newLabel;
    private readonly string[] names;
    private readonly int[][] groups;

    private ClassSelection(string[] names, int[][] groups, Dictionary<int, int> newLabel)
    {
        this.names = names;
        this.groups = groups;
        this.newLabel = newLabel;
    }

    /// <summary>The new classes' names, in the order written: new class i is <c>Names[i]</c>.</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>The source classes (indices) that become each new class: <c>Groups[i]</c> for <c>Names[i]</c>, in the order written.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Groups => groups;

    /// <summary>The number of source classes kept, all groups together; examples of other classes are left out.</summary>
    public int SourceCount => newLabel.Count;

    /// <summary>The largest source class index listed: the data needs at least one more class than this.</summary>
    public int LargestSource => newLabel.Keys.Max();

    /// <summary>
    /// Reads a selection. <paramref name="sourceClassNames"/> are the data's class names (index i named
    /// <c>sourceClassNames[i]</c>), when it has them; then classes can be given by name, and indices are checked
    /// against their number.
    /// </summary>
    /// <exception cref="FormatException">
    /// the text is malformed: no groups, fewer than two new classes, a group without <c>=</c>, an empty or repeated
    /// name, a group with no classes, a class that is not a name of the data nor an index; the message quotes the part
    /// that is wrong and says what was expected
    /// </exception>
    /// <exception cref="ArgumentException">a source class is listed twice, or an index is out of range for the data's classes</exception>
    public static ClassSelection Parse(string text, IReadOnlyList<string>? sourceClassNames = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var byName = sourceClassNames is null ? null : IndexNames(sourceClassNames);
        var parts = text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
            throw new FormatException($"{Quote(text)} holds no classes: expected name=classes groups separated by ';', e.g. \"top=0,2,4; other=1,3,5\"");
        var names = new List<string>();
        var groups = new List<int[]>();
        var newLabel = new Dictionary<int, int>();
        foreach (var part in parts)
        {
            var at = part.IndexOf('=');
            if (at < 0)
                throw new FormatException($"{Quote(part)} has no '=': expected name=classes, the new class's name and its source classes separated by ',' (\"top=0,2,4\")");
            var name = part[..at].Trim();
            if (name.Length == 0)
                throw new FormatException($"{Quote(part)}: the new class's name before '=' is empty: expected name=classes (\"top=0,2,4\")");
            if (name.Length > MaxNameLength)
                throw new FormatException($"{Quote(part)}: the new class's name has {name.Length} characters: expected at most {MaxNameLength}");
            if (name.Any(char.IsControl))
                throw new FormatException($"{Quote(part)}: the new class's name holds a control character: expected printable text");
            if (names.Contains(name, StringComparer.Ordinal))
                throw new FormatException($"{Quote(part)}: the new class '{Excerpt.@short(name)}' is named twice: each name is one class, so list all of its source classes in one group");
            var items = part[(at + 1)..].Split(',', StringSplitOptions.TrimEntries);
            if (items.All(i => i.Length == 0))
                throw new FormatException($"{Quote(part)} lists no source classes: expected them after '=', separated by ',' (\"{Excerpt.@short(name)}=0,2,4\")");
            var group = new List<int>();
            foreach (var item in items)
            {
                if (item.Length == 0)
                    throw new FormatException($"{Quote(part)} has an empty class between ',': expected a class after each ','");
                var source = SourceClass(item, part, sourceClassNames, byName);
                if (newLabel.TryGetValue(source, out var other))
                    throw new ArgumentException(
                        $"{Quote(part)}: source class {Show(source, sourceClassNames)} is already in '{Excerpt.@short(names.Count > other ? names[other] : name)}': " +
                        "each source class can become one new class only");
                newLabel[source] = names.Count;
                group.Add(source);
            }
            names.Add(name);
            groups.Add([.. group]);
        }
        if (names.Count < 2)
            throw new FormatException(
                $"{Quote(text)} makes only one class, '{Excerpt.@short(names[0])}': a classifier needs at least two, e.g. \"{Excerpt.@short(parts[0])}; other=...\"");
        return new ClassSelection([.. names], [.. groups], newLabel);
    }

    /// <summary>
    /// The source classes as <paramref name="text"/> writes them, without checking anything: what a file must name
    /// for the selection to read (a test file lacking one of them can be opened with it added to its classes).
    /// </summary>
    public static IReadOnlyList<string> WrittenClasses(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split(';')
            .Where(part => part.Contains('='))
            .SelectMany(part => part[(part.IndexOf('=') + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>The new class of source class <paramref name="sourceLabel"/>; false when the selection leaves it out.</summary>
    public bool TryMap(int sourceLabel, out int newLabel) => this.newLabel.TryGetValue(sourceLabel, out newLabel);

    /// <summary>Throws unless every source class listed is below <paramref name="classCount"/>, the data's number of classes.</summary>
    /// <exception cref="ArgumentException">a listed class index is out of range, naming it and the range</exception>
    public void RequireClasses(int classCount)
    {
        var largest = LargestSource;
        if (largest >= classCount)
            throw new ArgumentException(
                $"class {largest} (in '{Excerpt.@short(names[newLabel[largest]])}') is out of range: the data has {classCount} class{(classCount == 1 ? "" : "es")} (0 to {classCount - 1})");
    }

    /// <summary>"top=0,2,4,6; other=1,3,5,7,8,9": the selection as <see cref="Parse"/> reads it, by index.</summary>
    public override string ToString() =>
        string.Join("; ", names.Select((n, i) => $"{n}={string.Join(",", groups[i])}"));

    private static int SourceClass(string item, string part, IReadOnlyList<string>? sourceNames, Dictionary<string, int>? byName)
    {
        if (byName is not null && byName.TryGetValue(item, out var named)) return named;
        var isIndex = item.All(char.IsAsciiDigit);
        if (isIndex && int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            if (sourceNames is not null && index >= sourceNames.Count)
                throw new ArgumentException(
                    $"{Quote(part)}: class {index} is out of range: the data has {sourceNames.Count} classes (0 to {sourceNames.Count - 1}: {Listed(sourceNames)})");
            return index;
        }
        if (isIndex)
            throw new ArgumentException($"{Quote(part)}: class {Excerpt.@short(item)} is out of range: class indices are whole numbers from 0");
        throw new FormatException(sourceNames is null
            ? $"{Quote(part)}: '{Excerpt.@short(item)}' is not a class index: the data's classes have no names, so give them by number from 0"
            : $"{Quote(part)}: '{Excerpt.@short(item)}' is not one of the data's classes ({Listed(sourceNames)}) nor a class index");
    }

    private static Dictionary<string, int> IndexNames(IReadOnlyList<string> names)
    {
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
            byName.TryAdd(names[i] ?? throw new ArgumentException($"source class {i}'s name is null", nameof(names)), i);
        return byName;
    }

    private static string Show(int source, IReadOnlyList<string>? sourceNames) =>
        sourceNames is not null && source < sourceNames.Count && sourceNames[source] != source.ToString(CultureInfo.InvariantCulture)
            ? $"{source} ('{Excerpt.@short(sourceNames[source])}')"
            : source.ToString(CultureInfo.InvariantCulture);

    private static string Listed(IReadOnlyList<string> names) =>
        Excerpt.ofText(200, string.Join(", ", names));

    private static string Quote(string text) => $"'{Excerpt.ofText(80, text)}'";
}
