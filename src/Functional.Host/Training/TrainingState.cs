using System.Text.Json;
using Functional.Checkpoints;

namespace Functional.Training;

/// <summary>
/// Where a run stands at an epoch's end, beside the weights of a checkpoint folder, so that a resumed run
/// continues exactly: <c>training.json</c> (epochs done, steps, the shuffling seed, the schedule's, the
/// random generator's and early stopping's state, the history), <c>optimizer.bin</c> (the optimizer's
/// moments) and, when early stopping keeps an earlier epoch's weights, <c>best.safetensors</c>.
/// </summary>
internal sealed record TrainingState
{
    public const string StateFile = "training.json";
    public const string OptimizerFile = "optimizer.bin";
    public const string BestWeightsFile = "best.safetensors";

    public int Epoch { get; init; }
    public long Steps { get; init; }
    public int? ShuffleSeed { get; init; }
    public required Optimization.ScheduleState Schedule { get; init; }
    public required string RandomState { get; init; }
    public required List<EpochRecord> History { get; init; }

    /// <summary>Early stopping's bookkeeping; null when the run had none.</summary>
    public MonitorState? EarlyStopping { get; init; }

    /// <summary>Early stopping's best value so far, its epoch, and the epochs since.</summary>
    public sealed record MonitorState(double Best, int? BestEpoch, int Waited);

    /// <summary>One epoch's report as saved (what EpochReport holds, in plain values).</summary>
    public sealed record EpochRecord(int Epoch, int Epochs, double Loss, double ElapsedSeconds, Dictionary<string, double> Metrics,
        double LearningRate, double DurationSeconds, double ExamplesPerSecond)
    {
        public static EpochRecord From(EpochReport r) => new(r.Epoch, r.Epochs, r.Loss, r.Elapsed.TotalSeconds,
            new Dictionary<string, double>(r.Metrics), r.LearningRate, r.Duration.TotalSeconds, r.ExamplesPerSecond);

        public EpochReport ToReport() => new(Epoch, Epochs, Loss, TimeSpan.FromSeconds(ElapsedSeconds))
        {
            Metrics = Metrics,
            LearningRate = LearningRate,
            Duration = TimeSpan.FromSeconds(DurationSeconds),
            ExamplesPerSecond = ExamplesPerSecond,
        };
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Writes a checkpoint folder as one unit (see <see cref="CheckpointFolder.Replace"/>): the weights, the
    /// optimizer's state and this state, so a crash leaves the previous checkpoint (as <c>DIR.previous</c> at worst) whole.
    /// </summary>
    /// <param name="directory">the checkpoint folder</param>
    /// <param name="saveWeights">writes weights.safetensors and model.json into the folder it is given</param>
    /// <param name="optimizer">the optimizer's state (<see cref="Optimization.TrainingOptimizer.SaveState()"/>) of the same step</param>
    /// <param name="state">where the run stands at that step</param>
    /// <param name="best">early stopping's best weights, when they are not the checkpoint's own</param>
    public static void Save(string directory, Action<string> saveWeights, byte[] optimizer, TrainingState state, WeightSnapshot? best) =>
        CheckpointFolder.Replace(directory, next =>
        {
            saveWeights(next);
            File.WriteAllBytes(Path.Combine(next, OptimizerFile), optimizer);
            best?.Save(Path.Combine(next, BestWeightsFile));
            File.WriteAllText(Path.Combine(next, StateFile), JsonSerializer.Serialize(state, Json));
        });

    // Far above any training.json (a history of a million epochs fits): only a bound on what is read.
    private const long StateLimit = 256L << 20;

    /// <summary>The state saved in a checkpoint folder (or, after a crash mid-save, in the newest complete copy: <see cref="CheckpointFolder.Newest"/>).</summary>
    /// <exception cref="DirectoryNotFoundException">there is no such folder</exception>
    /// <exception cref="FileNotFoundException">the folder holds no training state</exception>
    /// <exception cref="CheckpointFormatException">training.json is malformed: the message names the field and what was expected</exception>
    public static (TrainingState State, byte[] Optimizer, string Directory) Load(string directory)
    {
        var full = Path.GetFullPath(CheckpointFolder.Newest(directory));
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"{directory}: no such folder to resume from; --resume (ResumeFrom) takes a checkpoint folder written by a run with --out (CheckpointDirectory)");
        var path = Path.Combine(full, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file; was {directory} written by a run with a checkpoint folder (fnn train --out)?", path);
        var state = Read(path);
        var optimizerPath = Path.Combine(full, OptimizerFile);
        if (!File.Exists(optimizerPath))
            throw new FileNotFoundException($"{optimizerPath}: no such file; a checkpoint to resume from holds the optimizer's state beside {StateFile}", optimizerPath);
        return (state, Functional.Files.readBytes(int.MaxValue, optimizerPath), full);
    }

    // Far beyond any real run; bounds that keep every count and time a number the session can use.
    private const int MaxEpochs = 100_000_000;
    private const double MaxSeconds = 1e9;

    /// <summary>Reads training.json, every field required and checked (null, missing, range, consistency).</summary>
    /// <exception cref="CheckpointFormatException">a field is wrong: the message names it (its JSON path) and what was expected</exception>
    internal static TrainingState Read(string path)
    {
        var (json, root) = CheckedJson.Read(path, StateLimit);
        var epoch = json.Int(root, "", "epoch", 1, MaxEpochs);
        var steps = json.Integer(root, "", "steps", 0, long.MaxValue / 2);
        int? shuffleSeed = CheckedJson.Optional(root, "shuffleSeed") is { } seed ? (int)json.Integer(seed, "shuffleSeed", int.MinValue, int.MaxValue) : null;

        var randomState = json.Text(root, "", "randomState", 64 * 1024);
        var random = SessionRandom.Check(randomState);
        if (random is not null) throw json.Error("randomState", random);

        var entries = json.Array(root, "", "history");
        if (entries.GetArrayLength() != epoch)
            throw json.Error("history", $"expected {epoch} entries, one for each epoch done (epoch is {epoch}), found {entries.GetArrayLength()}");
        var history = new List<EpochRecord>(epoch);
        var index = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var at = $"history[{index}]";
            if (entry.ValueKind != JsonValueKind.Object) throw json.Error(at, $"expected an object (an epoch's report), found {CheckedJson.Found(entry)}");
            var metricsObject = json.Object(entry, at, "metrics");
            var metrics = new Dictionary<string, double>();
            foreach (var metric in metricsObject.EnumerateObject())
            {
                if (metric.Name.Length == 0 || metric.Name.Length > 256)
                    throw json.Error($"{at}.metrics", $"expected metric names of 1 to 256 characters, found \"{Excerpt.@short(metric.Name)}\"");
                metrics[metric.Name] = json.Number(metric.Value, $"{at}.metrics.{Excerpt.@short(metric.Name)}", double.MinValue, double.MaxValue, _ => true);
            }
            history.Add(new EpochRecord(
                json.Int(entry, at, "epoch", index + 1, index + 1),
                json.Int(entry, at, "epochs", index + 1, MaxEpochs),
                // A finished epoch's training loss is finite: a NaN or infinite one ends the run before it is saved.
                json.Number(entry, at, "loss", double.MinValue, double.MaxValue),
                json.Number(entry, at, "elapsedSeconds", 0, MaxSeconds),
                metrics,
                json.Number(entry, at, "learningRate", 0, double.MaxValue),
                json.Number(entry, at, "durationSeconds", 0, MaxSeconds),
                json.Number(entry, at, "examplesPerSecond", 0, double.MaxValue, x => x == double.PositiveInfinity)));
            index++;
        }

        var s = json.Object(root, "", "schedule");
        var schedule = new Optimization.ScheduleState(
            json.Int(s, "schedule", "epochs", epoch, epoch),
            json.Integer(s, "schedule", "steps", steps, steps),
            CheckedJson.Optional(s, "plateauLearningRate") is { } rate ? json.Number(rate, "schedule.plateauLearningRate", 0, double.MaxValue) : null,
            CheckedJson.Optional(s, "best") is { } best ? json.Number(best, "schedule.best", double.MinValue, double.MaxValue) : null,
            json.Int(s, "schedule", "badEpochs", 0, epoch),
            json.Int(s, "schedule", "cooldownLeft", 0, MaxEpochs));


        MonitorState? monitor = null;
        if (CheckedJson.Optional(root, "earlyStopping") is { } stopping)
        {
            if (stopping.ValueKind != JsonValueKind.Object) throw json.Error("earlyStopping", $"expected an object or null, found {CheckedJson.Found(stopping)}");
            monitor = new MonitorState(
                json.Number(stopping, "earlyStopping", "best", double.MinValue, double.MaxValue, double.IsInfinity),
                CheckedJson.Optional(stopping, "bestEpoch") is { } bestEpoch ? (int)json.Integer(bestEpoch, "earlyStopping.bestEpoch", 1, epoch) : null,
                json.Int(stopping, "earlyStopping", "waited", 0, epoch));
        }
        return new TrainingState
        {
            Epoch = epoch,
            Steps = steps,
            ShuffleSeed = shuffleSeed,
            Schedule = schedule,
            RandomState = randomState,
            History = history,
            EarlyStopping = monitor,
        };
    }
}
