// Load for examples/service: Fashion-MNIST test images sent to POST /models/{model}/predict from N concurrent
// connections, each answer compared with the answer the same image got alone, latency per request, and the
// server's resident memory after the first 1,000 requests and at the end. Optionally swaps in another checkpoint
// halfway (--swap-from ALT --checkpoint DIR): every answer must then equal the old or the new weights' answer.
// Answers must be the same floats, or within --tolerance (micro-batched rows may round differently from a lone row).
// Bounded: loopback URLs only, at most 64 connections and 100,000 requests per connection.
using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

var settings = Settings.Parse(args);
var images = Images.Read(settings.Images, settings.Examples);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
{
    BaseAddress = new Uri(settings.Url),
    Timeout = TimeSpan.FromSeconds(30),
};
var predict = $"models/{settings.Model}/predict";

async Task<float[]> Answer(float[] image)
{
    using var response = await http.PostAsJsonAsync(predict, new { input = image });
    var body = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{(int)response.StatusCode}: {body}");
    return JsonNode.Parse(body)!["output"]!.AsArray().Select(v => (float)v!).ToArray();
}

async Task<float[][]> Alone() { var a = new float[images.Length][]; for (var i = 0; i < images.Length; i++) a[i] = await Answer(images[i]); return a; }

// How far an answer is from the expected one (0: the same floats); above --tolerance it is a mismatch.
double Distance(float[] answer, float[] expected) =>
    answer.Length != expected.Length ? double.PositiveInfinity : answer.Zip(expected, (a, b) => Math.Abs((double)a - b)).DefaultIfEmpty(0).Max();
var largest = 0.0;
var exact = 0L;

Console.WriteLine($"{settings.Url}{predict}: {images.Length} images, single-threaded answers first");
var before = await Alone();
float[][]? after = null;
var latencies = new double[settings.Connections * settings.Requests];
var errors = 0L;
var mismatches = 0L;
var done = 0L;
long? rssAtThousand = null;
var swapped = false;
var firstError = "";
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, settings.Connections).Select(connection => Task.Run(async () =>
{
    for (var r = 0; r < settings.Requests; r++)
    {
        var index = (connection * 7919 + r) % images.Length;
        var start = Stopwatch.GetTimestamp();
        try
        {
            var answer = await Answer(images[index]);
            var distance = Distance(answer, before[index]);
            if (distance == 0) Interlocked.Increment(ref exact);
            else if (swapped) Keep.Unsure(index, answer);
            else
            {
                lock (latencies) largest = Math.Max(largest, distance);
                if (distance > settings.Tolerance) Interlocked.Increment(ref mismatches);
            }
        }
        catch (Exception e)
        {
            if (Interlocked.Increment(ref errors) == 1) firstError = e.Message;
        }
        latencies[connection * settings.Requests + r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var n = Interlocked.Increment(ref done);
        if (n == 1000 && settings.ServerPid is { } pid) rssAtThousand = Memory.ResidentBytes(pid);
        if (n == (long)settings.Connections * settings.Requests / 2 && settings.SwapFrom is { } alternative)
        {
            swapped = true;
            Checkpoints.Swap(alternative, settings.Checkpoint!);
            Console.WriteLine($"  swapped {alternative} into {settings.Checkpoint} after {n} requests");
        }
    }
})));
var elapsed = clock.Elapsed;
long? rssAtEnd = settings.ServerPid is { } p ? Memory.ResidentBytes(p) : null;
if (swapped)
{
    // Answers after the swap must be the new weights' (once reloaded) or the old ones'.
    await Reloaded.Wait(http, settings.Model);
    after = await Alone();
    mismatches += Keep.NotIn(after, Distance, settings.Tolerance);
}
Array.Sort(latencies);
var total = latencies.Length;
var summary = new
{
    url = settings.Url,
    model = settings.Model,
    connections = settings.Connections,
    requests = total,
    seconds = Math.Round(elapsed.TotalSeconds, 2),
    requestsPerSecond = Math.Round(total / elapsed.TotalSeconds),
    p50Ms = Math.Round(latencies[total / 2], 3),
    p99Ms = Math.Round(latencies[Math.Min(total - 1, (int)(total * 0.99))], 3),
    errors,
    exactAnswers = exact,
    mismatches,
    tolerance = settings.Tolerance,
    largestDifference = largest,
    swapped,
    rssAfter1000MiB = rssAtThousand is { } a ? Math.Round(a / 1048576.0, 1) : (double?)null,
    rssAtEndMiB = rssAtEnd is { } b ? Math.Round(b / 1048576.0, 1) : (double?)null,
    rssGrowthPercent = rssAtThousand is { } x && rssAtEnd is { } y ? Math.Round(100.0 * (y - x) / x, 1) : (double?)null,
    firstError,
};
var json = JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(json);
if (settings.Json is { } path) File.WriteAllText(path, json);
return errors == 0 && mismatches == 0 ? 0 : 1;

/// <summary>Answers after a swap that differ from the old weights': checked against the new weights' at the end.</summary>
static class Keep
{
    private static readonly System.Collections.Concurrent.ConcurrentBag<(int Index, float[] Answer)> seen = [];
    public static void Unsure(int index, float[] answer) => seen.Add((index, answer));
    public static long NotIn(float[][] after, Func<float[], float[], double> distance, double tolerance) =>
        seen.LongCount(k => distance(k.Answer, after[k.Index]) > tolerance);
}

static class Reloaded
{
    /// <summary>Waits (at most 30 s) until /models says the model has reloaded.</summary>
    public static async Task Wait(HttpClient http, string model)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var models = JsonNode.Parse(await http.GetStringAsync("models"))!["models"]!.AsArray();
            if (models.Any(m => (string?)m!["name"] == model && (int?)m["reloads"] >= 1)) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{model} did not reload within 30 s of the swap");
    }
}

static class Checkpoints
{
    /// <summary>Replaces <paramref name="target"/> with a copy of <paramref name="source"/> by renames, as a deployment would:
    /// the copy is made beside it, then the old folder is moved aside and the copy moved in.</summary>
    public static void Swap(string source, string target)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        var incoming = full + ".incoming";
        var outgoing = full + ".outgoing";
        if (Directory.Exists(incoming) || Directory.Exists(outgoing))
            throw new IOException($"{incoming} or {outgoing} exists: remove it first (this tool never deletes what it did not write)");
        Directory.CreateDirectory(incoming);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(incoming, Path.GetFileName(file)));
        Directory.Move(full, outgoing);
        Directory.Move(incoming, full);
        Console.WriteLine($"  the previous checkpoint is kept in {outgoing}");
    }
}

static class Memory
{
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS");
    }
}

static class Images
{
    /// <summary>The first <paramref name="count"/> images of an IDX image file (gzip or not), scaled to [0, 1] as training's --normalize scale does.</summary>
    public static float[][] Read(string path, int count)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new BinaryReader(stream);
        int BigEndian() { var b = reader.ReadBytes(4); return b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]; }
        if (BigEndian() != 0x0803) throw new InvalidDataException($"{path} is not an IDX file of images (magic 0x00000803)");
        var n = BigEndian();
        var size = BigEndian() * BigEndian();
        return Enumerable.Range(0, Math.Min(count, n)).Select(_ => reader.ReadBytes(size).Select(b => b / 255f).ToArray()).ToArray();
    }
}

sealed record Settings(string Url, string Model, int Connections, int Requests, int Examples, string Images, int? ServerPid,
    string? SwapFrom, string? Checkpoint, string? Json, double Tolerance)
{
    public static Settings Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --name value, got '{args[i]}'");
            map[args[i][2..]] = args[i + 1];
        }
        if (args.Length % 2 != 0) throw new ArgumentException($"'{args[^1]}' has no value");
        string Get(string name, string fallback) => map.Remove(name, out var v) ? v : fallback;
        int Int(string name, int fallback, int max)
        {
            var text = Get(name, fallback.ToString());
            return int.TryParse(text, out var n) && n >= 1 && n <= max ? n : throw new ArgumentException($"--{name} must be a whole number from 1 to {max}, not '{text}'");
        }
        var url = Get("url", "http://127.0.0.1:5080/");
        if (!url.EndsWith('/')) url += "/";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !uri.IsLoopback) throw new ArgumentException($"--url must be a loopback address, not '{url}'");
        var settings = new Settings(url, Get("model", "fashion"), Int("connections", 16, 64), Int("requests", 5000, 100_000), Int("examples", 256, 10_000),
            Get("images", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"),
            map.ContainsKey("server-pid") ? Int("server-pid", 1, int.MaxValue) : null,
            map.Remove("swap-from", out var from) ? from : null, map.Remove("checkpoint", out var checkpoint) ? checkpoint : null,
            map.Remove("json", out var json) ? json : null,
            map.Remove("tolerance", out var tolerance) ? (double.TryParse(tolerance, System.Globalization.CultureInfo.InvariantCulture, out var t) && t >= 0 ? t
                : throw new ArgumentException($"--tolerance must be a number of at least 0, not '{tolerance}'")) : 0);
        if (map.Count > 0) throw new ArgumentException($"unknown option --{map.Keys.First()}; the options are --url --model --connections --requests --examples --images --server-pid --swap-from --checkpoint --json --tolerance");
        if ((settings.SwapFrom is null) != (settings.Checkpoint is null)) throw new ArgumentException("--swap-from and --checkpoint go together");
        return settings;
    }
}
