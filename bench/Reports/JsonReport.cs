using System.Text.Json;

namespace Functional.Bench.Reports;

/// <summary>
/// summary.json: the list of compiled-against-hand-written rows (network, phase, compiled_ms,
/// handwritten_ms, ratio and more), a contract other checks read; details.json: everything measured.
/// </summary>
public static class JsonReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly JsonSerializerOptions Details = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Write(BenchResults results, string folder)
    {
        File.WriteAllText(Path.Combine(folder, "summary.json"), JsonSerializer.Serialize(results.Comparisons, Indented) + "\n");
        File.WriteAllText(Path.Combine(folder, "details.json"), JsonSerializer.Serialize(results, Details) + "\n");
    }
}
