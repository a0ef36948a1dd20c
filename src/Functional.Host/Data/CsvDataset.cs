using System.Globalization;
using System.Runtime.InteropServices;

namespace Functional.Data;

/// <summary>
/// Examples from a CSV file: chosen columns of numbers as features ([n] per example) and a class label or
/// numeric targets. The file is parsed and checked completely at open and held in memory as float32.
/// </summary>
/// <remarks>
/// The parser is our own (<see cref="CsvReader"/>, RFC 4180): every error must name the file, the line and the
/// column, and the numbers go straight into float arrays without a row object per line.
/// </remarks>
public sealed class CsvDataset : IDataset, INormalizingReader, IClassNamed, IFromFile
{
    // Whole-number labels are used as class indices directly; this bounds the class count that can create.
    private const int MaxClassIndex = 1 << 20;

    private readonly InMemoryDataset examples;

    private CsvDataset(string path, InMemoryDataset examples, IReadOnlyList<string>? columnNames,
        IReadOnlyList<int> featureColumns, IReadOnlyList<int> targetColumns, IReadOnlyList<string>? classNames)
    {
        Path = path;
        this.examples = examples;
        ColumnNames = columnNames;
        FeatureColumns = featureColumns;
        TargetColumns = targetColumns;
        ClassNames = classNames;
    }

    /// <summary>The file as given.</summary>
    public string Path { get; }

    string IFromFile.SourcePath => Path;

    /// <summary>The header's column names, or null when the file has no header.</summary>
    public IReadOnlyList<string>? ColumnNames { get; }

    /// <summary>The 0-based indices of the feature columns, in feature order.</summary>
    public IReadOnlyList<int> FeatureColumns { get; }

    /// <summary>The 0-based indices of the target columns.</summary>
    public IReadOnlyList<int> TargetColumns { get; }

    /// <summary>For class labels: the name of each class index (pass it as <see cref="CsvOptions.ClassNames"/> for a test set); else null.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <inheritdoc/>
    public int Count => examples.Count;
    /// <inheritdoc/>
    public int[] FeatureShape => examples.FeatureShape;
    /// <inheritdoc/>
    public TargetKind TargetKind => examples.TargetKind;
    /// <inheritdoc/>
    public int[] TargetShape => examples.TargetShape;
    /// <inheritdoc/>
    public int? ClassCount => examples.ClassCount;

    /// <inheritdoc/>
    public Batch ReadBatch(ReadOnlySpan<int> indices) => examples.ReadBatch(indices);

    Batch INormalizingReader.ReadBatch(ReadOnlySpan<int> indices, Normalization normalization) => examples.Read(indices, normalization);

    /// <summary>Nothing to free: the examples are managed arrays.</summary>
    public void Dispose() { }

    /// <summary>Reads and checks a CSV file.</summary>
    /// <exception cref="FileNotFoundException">no such file</exception>
    /// <exception cref="DataFormatException">a bad number, a row of the wrong length, an unknown column or class (with line and column);
    /// a field, record, field count or file size beyond <see cref="CsvOptions.Limits"/></exception>
    /// <exception cref="ArgumentException">the options contradict themselves</exception>
    public static CsvDataset Open(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new CsvOptions();
        CheckOptions(options);
        var separator = options.Separator
                        ?? (System.IO.Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');

        var limits = options.Limits ?? new CsvLimits();
        var file = Functional.Files.openRead(path);
        if (file.Length > limits.MaxFileBytes)
        {
            var length = file.Length;
            file.Dispose();
            throw new DataFormatException(path, $"the file is {length} bytes, more than the {limits.MaxFileBytes} a CSV file may have (CsvLimits.MaxFileBytes)");
        }
        // Strict UTF-8 (or the encoding a byte order mark names): invalid bytes are an error, not silent U+FFFD in a label.
        using var text = new StreamReader(file, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var reader = new CsvReader(text, separator, path, limits);
        try
        {
            return Read(path, options, reader);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            // The reader decodes ahead of the records, so the line is not known: name the byte instead.
            var bad = e.BytesUnknown is { Length: > 0 } bytes ? $" (byte 0x{bytes[0]:X2})" : "";
            throw new DataFormatException(path, $"the file is not valid UTF-8{bad}: save it as UTF-8", innerException: e);
        }
    }

    private static CsvDataset Read(string path, CsvOptions options, CsvReader reader)
    {
        var first = new List<string>();
        if (!reader.Read(first)) throw new DataFormatException(path, "the file is empty");
        var firstLine = reader.RecordLine;
        var second = new List<string>();
        var hasSecond = reader.Read(second);
        var secondLine = reader.RecordLine;

        var named = (options.Features ?? []).Concat(options.Targets ?? []).Any(c => c.Name is not null);
        var header = options.HasHeader ?? (named || LooksLikeHeader(first, hasSecond ? second : null));
        var names = header ? first.Select(n => n.Trim()).ToList() : null;
        var columns = first.Count;

        var targets = (options.Targets ?? [CsvColumn.At(-1)]).Select(c => Resolve(path, c, names, columns, options)).ToList();
        var features = options.Features is null
            ? Enumerable.Range(0, columns).Where(i => !targets.Contains(i)).ToList()
            : options.Features.Select(c => Resolve(path, c, names, columns, options)).ToList();
        CheckChoice(path, features, targets, names);

        var parser = new RowParser(path, names, columns, header ? "the header" : $"line {firstLine}", features, targets, options);
        if (!header) parser.Add(first, firstLine);
        if (hasSecond)
        {
            parser.Add(second, secondLine);
            var row = new List<string>();
            while (reader.Read(row)) parser.Add(row, reader.RecordLine);
        }
        if (parser.Rows == 0) throw new DataFormatException(path, "the file has no rows of data, only a header");
        return parser.Finish(names);
    }

    private static void CheckOptions(CsvOptions options)
    {
        if (options.Targets is { Count: 0 }) throw new ArgumentException("Targets is empty: name at least one column", nameof(options));
        if (options.Features is { Count: 0 }) throw new ArgumentException("Features is empty: name at least one column", nameof(options));
        if (options.Labels == CsvLabels.Classes && options.Targets is { Count: > 1 })
            throw new ArgumentException($"class labels come from one column, but Targets names {options.Targets.Count}; use Labels = Values for several numeric targets", nameof(options));
        if (options.ClassNames is { } classes)
        {
            if (options.Labels != CsvLabels.Classes) throw new ArgumentException("ClassNames is only for Labels = Classes", nameof(options));
            if (classes.Count == 0) throw new ArgumentException("ClassNames is empty", nameof(options));
            var duplicate = classes.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new ArgumentException($"ClassNames holds '{duplicate.Key}' twice", nameof(options));
        }
    }

    /// <summary>A header is a first row with a field that is not a number where the second row's is.</summary>
    private static bool LooksLikeHeader(List<string> first, List<string>? second)
    {
        if (second is null) return first.All(f => !IsNumber(f));
        for (var i = 0; i < first.Count && i < second.Count; i++)
            if (!IsNumber(first[i]) && IsNumber(second[i])) return true;
        return false;
    }

    private static bool IsNumber(string text) =>
        float.TryParse(text.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static int Resolve(string path, CsvColumn column, List<string>? names, int columns, CsvOptions options)
    {
        if (column.Name is { } name)
        {
            if (names is null)
                throw new ArgumentException($"{path}: {column} is chosen by name, but the file is read without a header (HasHeader = {options.HasHeader})", nameof(options));
            var index = names.IndexOf(name);
            if (index < 0) index = names.FindIndex(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
            return index >= 0
                ? index
                : throw new DataFormatException(path, $"there is no column named '{Functional.Excerpt.@short(name)}'; the columns are {Functional.Excerpt.ofText(200, string.Join(", ", names))}", 1);
        }
        var at = column.Index < 0 ? columns + column.Index : column.Index;
        return at >= 0 && at < columns
            ? at
            : throw new DataFormatException(path, $"{column} is out of range: the file has {columns} columns (0 to {columns - 1}, or -1 to -{columns} from the end)");
    }

    private static void CheckChoice(string path, List<int> features, List<int> targets, List<string>? names)
    {
        string Name(int i) => names is null ? $"column {i + 1}" : $"column {i + 1} ('{names[i]}')";
        if (features.Count == 0) throw new DataFormatException(path, $"there are no feature columns: the file's only column, {Name(targets[0])}, is the target");
        foreach (var i in features.Intersect(targets))
            throw new ArgumentException($"{path}: {Name(i)} is both a feature and a target");
        foreach (var group in features.Concat(targets).GroupBy(i => i).Where(g => g.Count() > 1))
            throw new ArgumentException($"{path}: {Name(group.Key)} is chosen twice");
    }

    /// <summary>Parses rows into flat feature and target arrays, checking each field.</summary>
    private sealed class RowParser(string path, List<string>? names, int columns, string widthSource,
        List<int> features, List<int> targets, CsvOptions options)
    {
        private readonly List<float> x = [];
        private readonly List<float> values = [];
        private readonly List<int> labelIds = [];
        private readonly List<int> labelLines = [];
        private readonly Dictionary<string, int> labelNames = new(StringComparer.Ordinal);

        public int Rows { get; private set; }

        public void Add(List<string> row, int line)
        {
            if (row.Count != columns)
                throw new DataFormatException(path, $"the row has {row.Count} fields but {widthSource} has {columns}", line);
            foreach (var i in features) x.Add(Number(row[i], line, i));
            if (options.Labels == CsvLabels.Values)
                foreach (var i in targets) values.Add(Number(row[i], line, i));
            else
            {
                labelIds.Add(Label(row[targets[0]], line, targets[0]));
                labelLines.Add(line);
            }
            Rows++;
        }

        private float Number(string field, int line, int column)
        {
            var text = field.Trim();
            if (text.Length == 0) throw Error("the field is empty; a number is expected", line, column);
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw Error($"'{Functional.Excerpt.@short(text)}' is not a number", line, column);
            if (!float.IsFinite(value)) throw Error($"'{Functional.Excerpt.@short(text)}' is not a finite number", line, column);
            return value;
        }

        private int Label(string field, int line, int column)
        {
            var text = field.Trim();
            if (text.Length == 0) throw Error("the label is empty", line, column);
            if (options.ClassNames is { } classes)
            {
                var index = IndexOf(classes, text);
                return index >= 0 ? index : throw Error($"'{Functional.Excerpt.@short(text)}' is not one of the classes {Functional.Excerpt.ofText(200, string.Join(", ", classes))}", line, column);
            }
            if (!labelNames.TryGetValue(text, out var id)) labelNames.Add(text, id = labelNames.Count);
            return id;
        }

        private static int IndexOf(IReadOnlyList<string> list, string item)
        {
            for (var i = 0; i < list.Count; i++)
                if (list[i] == item) return i;
            return -1;
        }

        private DataFormatException Error(string problem, int line, int column) =>
            new(path, names is null ? problem : $"{problem} (column '{Functional.Excerpt.@short(names[column])}')", line, column + 1);

        public CsvDataset Finish(List<string>? columnNames)
        {
            int[] featureShape = [features.Count];
            var flat = CollectionsMarshal.AsSpan(x).ToArray();
            if (options.Labels == CsvLabels.Values)
            {
                var examples = new InMemoryDataset(flat, featureShape, null, null, CollectionsMarshal.AsSpan(values).ToArray(), [targets.Count]);
                return new CsvDataset(path, examples, columnNames, features, targets, null);
            }
            var (classOf, classNames) = options.ClassNames is { } given
                ? (Enumerable.Range(0, given.Count).ToArray(), given.ToList())
                : ClassesFromLabels();
            var labels = labelIds.Select(id => (long)classOf[id]).ToArray();
            var data = new InMemoryDataset(flat, featureShape, labels, classNames.Count, null, []);
            return new CsvDataset(path, data, columnNames, features, targets, classNames);
        }

        /// <summary>Whole numbers from 0 are their own class indices; other names are sorted by ordinal comparison.</summary>
        private (int[] ClassOf, List<string> Names) ClassesFromLabels()
        {
            var distinct = labelNames.OrderBy(p => p.Value).Select(p => p.Key).ToList();
            var numbers = new int[distinct.Count];
            var allNumbers = true;
            for (var i = 0; i < distinct.Count && allNumbers; i++)
                allNumbers = int.TryParse(distinct[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]);
            if (allNumbers)
            {
                var max = numbers.Max();
                if (max >= MaxClassIndex)
                {
                    var row = labelIds.IndexOf(Array.IndexOf(numbers, max));
                    throw Error($"the class label {max} is too large for a class index; for numbers to predict use Labels = Values", labelLines[row], targets[0]);
                }
                var names = Enumerable.Range(0, max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
                return (numbers, names);
            }
            var sorted = distinct.OrderBy(n => n, StringComparer.Ordinal).ToList();
            var classOf = distinct.Select(n => sorted.BinarySearch(n, StringComparer.Ordinal)).ToArray();
            return (classOf, sorted);
        }
    }
}
