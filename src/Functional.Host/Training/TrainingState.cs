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

    /// <summary>The state saved in a checkpoint folder (or, after a crash mid-save, in its previous copy).</summary>
    /// <exception cref="DirectoryNotFoundException">there is no such folder</exception>
    /// <exception cref="FileNotFoundException">the folder holds no training state</exception>
    public static (TrainingState State, byte[] Optimizer, string Directory) Load(string directory)
    {
        var full = Path.GetFullPath(directory);
        if (!File.Exists(Path.Combine(full, StateFile)) && File.Exists(Path.Combine(full + ".previous", StateFile)))
            full += ".previous";
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"{directory}: no such folder to resume from; --resume (ResumeFrom) takes a checkpoint folder written by a run with --out (CheckpointDirectory)");
        var path = Path.Combine(full, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file; was {directory} written by a run with a checkpoint folder (fnn train --out)?", path);
        try
        {
            var state = JsonSerializer.Deserialize<TrainingState>(Functional.Files.readText(StateLimit, path), Json)
                        ?? throw new CheckpointFormatException(path, "it is empty");
            return (state, Functional.Files.readBytes(int.MaxValue, Path.Combine(full, OptimizerFile)), full);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"it is not a training state: {e.Message}", e);
        }
    }
}
