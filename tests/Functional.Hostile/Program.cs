using System.Diagnostics;
using Functional.Hostile;
using Functional.Hostile.Corruptions;

// The standing hostile-input suite. Quick mode (the default, run by the test suite): every systematic corruption of
// every kind, each field with one hostile value, plus a few seeded random ones. --long: each field with every hostile
// value; --random N: N seeded random corruptions on top. Exit code 0 when every
// attempt ended in a clear error or a valid result; 1 when any crashed, hung, was unclear or silently wrong.
const string usage = """
    usage: Functional.Hostile [--long] [--random N] [--seed S] [--limit SECONDS] [--kinds k1,k2] [--work DIR] [--verbose]
      --long         every field with every hostile value (quick mode: every field with one of them)
      --random N     random corruptions after the systematic ones (default 5 per kind; e.g. 10000 for a long run)
      --seed S       seed of the random ones (default 1)
      --limit S      seconds an attempt may take before it counts as hung (default 60: generous for a busy machine)
      --kinds        only these kinds: weights.safetensors, model.json, optimizer.bin, training.json, csv, idx, source, path, flag
      --work DIR     the folder to work in (default: a new one under the system's temporary folder; removed at the end)
      --verbose      print every attempt's verdict, not only the ones that failed
    """;

var options = new Dictionary<string, string>();
var verbose = false;
var thorough = false;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--verbose") { verbose = true; continue; }
    if (args[i] == "--long") { thorough = true; continue; }
    if (args[i] is "--help" or "-h" || i + 1 >= args.Length || !args[i].StartsWith("--", StringComparison.Ordinal))
    {
        Console.Error.WriteLine(usage);
        return args[i] is "--help" or "-h" ? 0 : 2;
    }
    options[args[i][2..]] = args[++i];
}
int Number(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v) : fallback;
var randomPerKind = options.ContainsKey("random") ? 0 : 5;
var randomTotal = Number("random", 0);
var limit = TimeSpan.FromSeconds(Number("limit", 60));
var random = new Random(Number("seed", 1));
var work = options.TryGetValue("work", out var w) ? Path.GetFullPath(w) : Path.Combine(Path.GetTempPath(), $"functional-hostile-{Guid.NewGuid():N}");
Directory.CreateDirectory(work);
// Token caches that cannot be written beside their text go to $XDG_CACHE_HOME: inside the work folder, never ~/.cache.
Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(work, "cache"));

// fnn's live progress is for terminals; here its output is captured.
Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
{
    Interactive = Spectre.Console.InteractionSupport.No,
    Ansi = Spectre.Console.AnsiSupport.No,
    Out = new Spectre.Console.AnsiConsoleOutput(TextWriter.Null),
});

ICorruptions[] all =
[
    new WeightsFile(perPath: thorough ? 3 : 1), new CheckpointJson("model.json", perPath: thorough ? 4 : 1),
    new OptimizerState(stride: thorough ? 4 : 8), new CheckpointJson("training.json", perPath: thorough ? 3 : 1),
    new CsvFiles(), new IdxFiles(), new Sources(), new SpecialPaths(), new Flags(),
    new TokenizerJson(perPath: thorough ? 3 : 1), new TokenCacheFiles(stride: thorough ? 4 : 40),
    new CheckpointJson("adapter_config.json", perPath: thorough ? 3 : 1), new WeightsFile(perPath: thorough ? 3 : 1, adapter: true),
];
var kinds = options.TryGetValue("kinds", out var k) ? all.Where(c => k.Split(',').Contains(c.Kind)).ToArray() : all;

var clock = Stopwatch.StartNew();
var outcomes = new List<Outcome>();
var fixture = new Fixture(work);
IEnumerable<Attempt> Attempts()
{
    foreach (var kind in kinds)
    {
        foreach (var attempt in kind.Systematic(fixture)) yield return attempt;
        for (var i = 0; i < randomPerKind; i++) yield return kind.Random(fixture, random);
    }
    for (var i = 0; i < randomTotal; i++) yield return kinds[random.Next(kinds.Length)].Random(fixture, random);
}

try
{
    foreach (var attempt in Attempts())
    {
        // Printed before it runs: if the process dies, the last line says which attempt killed it.
        if (verbose) Console.WriteLine($"attempt {outcomes.Count + 1}: {attempt.Kind}: {attempt.What}");
        else Console.Error.Write($"\rattempt {outcomes.Count + 1}: {attempt.Kind}: {Functional.Excerpt.ofText(80, attempt.What),-100}");
        var result = InProcessFnn.Run(attempt.Arguments, limit);
        var outcome = result is { } r
            ? new Outcome(attempt, Outcome.Judge(attempt, r.ExitCode, r.Output, r.Error), r.ExitCode, r.Error, r.Duration)
            : new Outcome(attempt, Verdict.Hang, null, "", limit);
        outcomes.Add(outcome);
        if (verbose || outcome.Verdict is not (Verdict.ClearError or Verdict.Accepted))
            Console.WriteLine($"{outcome.Verdict,-10} {attempt.Kind}: {attempt.What} (exit {outcome.ExitCode?.ToString() ?? "none"}, " +
                              $"{outcome.Duration.TotalSeconds:0.00} s): {Functional.Excerpt.ofText(300, outcome.Error.Trim())}");
        if (outcome.Verdict == Verdict.Hang) break; // the hung command still runs on its thread: nothing after it is sound
        Clean(Path.Combine(work, "attempts"));
    }
}
finally
{
    Console.Error.WriteLine();
    Report(outcomes, clock.Elapsed);
}
var failed = outcomes.Count(o => o.Verdict is not (Verdict.ClearError or Verdict.Accepted));
if (!options.ContainsKey("work"))
{
    Clean(work);
    Directory.Delete(work);
}
// A hung command's thread may hold files open; end the process rather than wait for it.
Console.Out.Flush();
Environment.Exit(failed == 0 ? 0 : 1);
return 0;

static void Report(List<Outcome> outcomes, TimeSpan elapsed)
{
    Verdict[] columns = [Verdict.ClearError, Verdict.Accepted, Verdict.Unclear, Verdict.Silent, Verdict.Crash, Verdict.Hang];
    Console.WriteLine();
    Console.WriteLine($"| kind | attempts | {string.Join(" | ", columns.Select(Name))} |");
    Console.WriteLine($"|---|---:|{string.Concat(columns.Select(_ => "---:|"))}");
    foreach (var group in outcomes.GroupBy(o => o.Attempt.Kind))
        Console.WriteLine($"| {group.Key} | {group.Count()} | {string.Join(" | ", columns.Select(c => group.Count(o => o.Verdict == c)))} |");
    Console.WriteLine($"| all | {outcomes.Count} | {string.Join(" | ", columns.Select(c => outcomes.Count(o => o.Verdict == c)))} |");
    Console.WriteLine();
    Console.WriteLine($"hostile: {outcomes.Count} attempts, {string.Join(", ", columns.Select(c => $"{outcomes.Count(o => o.Verdict == c)} {Name(c)}"))} in {elapsed.TotalSeconds:0} s");
}

static string Name(Verdict verdict) => verdict switch
{
    Verdict.ClearError => "clear errors",
    Verdict.Accepted => "accepted (still valid)",
    Verdict.Unclear => "unclear",
    Verdict.Silent => "silently wrong",
    Verdict.Crash => "crashes",
    _ => "hangs",
};

// Removes what the attempts made (FIFOs, links and folders included), never following a link out of the folder.
static void Clean(string folder)
{
    if (!Directory.Exists(folder)) return;
    foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
    {
        if (entry is DirectoryInfo d && d.LinkTarget is null) Clean(d.FullName);
        if (entry is DirectoryInfo { LinkTarget: null } dir) dir.Delete();
        else entry.Delete();
    }
}
