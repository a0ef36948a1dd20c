using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Functional.Training.Callbacks;

/// <summary>
/// Writes one line per epoch to a file (replaced when the run starts; a resumed run first writes the
/// epochs it carries): JSON Lines, or CSV with a header when the path ends in .csv.
/// </summary>
internal sealed class HistoryCallback : TrainingCallback, IDisposable
{
    private readonly StreamWriter writer;
    private readonly bool csv;
    private bool headed;

    public HistoryCallback(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        csv = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
    }

    public override void OnTrainBegin(TrainingSession session)
    {
        foreach (var report in session.History) Write(report);
    }

    public override void OnEpochEnd(TrainingSession session, EpochReport report) => Write(report);

    /// <summary>The fields of a line, in order: epoch, loss, the metrics as reported, lr, seconds.</summary>
    private static List<(string Name, double Value)> Fields(EpochReport report)
    {
        var fields = new List<(string, double)> { ("epoch", report.Epoch), ("loss", report.Loss) };
        fields.AddRange(report.Metrics.Select(m => (m.Key, m.Value)));
        fields.Add(("lr", report.LearningRate));
        fields.Add(("seconds", report.Duration.TotalSeconds));
        return fields;
    }

    private void Write(EpochReport report)
    {
        var fields = Fields(report);
        if (csv)
        {
            if (!headed) writer.WriteLine(string.Join(",", fields.Select(f => f.Name)));
            writer.WriteLine(string.Join(",", fields.Select(f => f.Value.ToString("R", CultureInfo.InvariantCulture))));
        }
        else
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                foreach (var (name, value) in fields)
                {
                    if (name == "epoch") json.WriteNumber(name, (int)value);
                    else if (double.IsFinite(value)) json.WriteNumber(name, value);
                    else json.WriteNull(name);
                }
                json.WriteEndObject();
            }
            writer.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        }
        headed = true;
        writer.Flush();
    }

    public void Dispose() => writer.Dispose();
}
