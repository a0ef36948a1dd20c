using Microsoft.FSharp.Core;
using System.Security.Cryptography;
using System.Text;
using Functional.Lang;
using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using Functional.Training;
using TorchSharp;

namespace Functional.Networks;

/// <summary>
/// A checked <c>.fnn</c> source: its models and train blocks, ready to compile. Checking needs no engine
/// and allocates no tensor; every error is reported with file:line:col.
/// </summary>
public sealed class FnnFile
{
    private readonly CheckedProgram program;

    private FnnFile(string path, string text, CheckedProgram program, IReadOnlyList<string> warnings)
    {
        Path = path;
        SourceText = text;
        this.program = program;
        Warnings = warnings;
        SourceHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The path the source was read from (or the name it was given).</summary>
    public string Path { get; }

    /// <summary>The source text, as read.</summary>
    public string SourceText { get; }

    /// <summary>SHA-256 of the source text, recorded in checkpoints.</summary>
    public string SourceHash { get; }

    /// <summary>
    /// What loading noticed that is not an error: for a source loaded for a checkpoint
    /// (<see cref="LoadForCheckpoint"/>), that it has changed since the checkpoint was written. Empty otherwise.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The file's own models, in file order (not the imported ones).</summary>
    public IReadOnlyList<string> ModelNames => program.Models.Select(m => m.Name).ToList();

    /// <summary>The models that have a <c>train</c> block, in file order.</summary>
    public IReadOnlyList<string> TrainedModelNames => program.Trains.Select(t => t.Model).ToList();

    /// <summary>Reads and checks a file (and the files it imports).</summary>
    /// <param name="path">the .fnn file</param>
    /// <param name="hyperparameters">overrides of model hyperparameters, as name and value text ("dim" = "64")</param>
    /// <exception cref="FileNotFoundException">no such file</exception>
    /// <exception cref="FnnCompileException">the source has errors</exception>
    /// <exception cref="ArgumentException">an override is not a number, true, false or a string</exception>
    public static FnnFile Load(string path, IReadOnlyDictionary<string, string>? hyperparameters = null)
    {
        Functional.Files.ensureRegular(path);
        var text = Language.readSource(path);
        if (text.IsError) throw new IOException($"{path}: {text.ErrorValue}");
        return FromSource(text.ResultValue, path, hyperparameters);
    }

    /// <summary>Checks source text; <paramref name="fileName"/> is what diagnostics call it, and imports are
    /// found relative to its folder.</summary>
    /// <exception cref="FnnCompileException">the source has errors</exception>
    /// <exception cref="ArgumentException">an override is not a number, true, false or a string</exception>
    public static FnnFile FromSource(string source, string fileName = "<source>", IReadOnlyDictionary<string, string>? hyperparameters = null)
    {
        var overrides = Overrides(hyperparameters);
        var (result, sources) = Language.checkWith(overrides, fileName, source);
        // Train blocks are checked whole by the language (optimizer and schedule ranges included).
        if (result.IsError)
            throw new FnnCompileException(Language.renderWith(sources, result.ErrorValue), result.ErrorValue);
        return new FnnFile(fileName, source, result.ResultValue, []);
    }

    /// <summary>
    /// Reads and checks the source a checkpoint was trained from, with the hyperparameters its <c>model.json</c>
    /// records (so a network trained with <c>--set hidden=8</c> loads without repeating it). A source that has
    /// changed since the checkpoint was written is named in <see cref="Warnings"/>, or refused.
    /// </summary>
    /// <param name="path">the .fnn file</param>
    /// <param name="checkpointDirectory">a checkpoint folder (or one whose save was cut short, which its previous copy replaces)</param>
    /// <param name="hyperparameters">values as name and value text; each must agree with the recorded one</param>
    /// <param name="requireUnchangedSource">throw <see cref="Checkpoints.SourceChangedException"/> for a changed source</param>
    /// <exception cref="FileNotFoundException">no such file, or the folder is not a checkpoint</exception>
    /// <exception cref="FnnCompileException">the source has errors</exception>
    /// <exception cref="ArgumentException">a given hyperparameter contradicts the recorded one, or the model has no such hyperparameter</exception>
    /// <exception cref="Checkpoints.SourceChangedException">the source changed and <paramref name="requireUnchangedSource"/> is set</exception>
    /// <exception cref="Checkpoints.CheckpointMismatchException">the source no longer has the model or a hyperparameter the checkpoint records</exception>
    public static FnnFile LoadForCheckpoint(string path, string checkpointDirectory,
        IReadOnlyDictionary<string, string>? hyperparameters = null, bool requireUnchangedSource = false) =>
        Checkpoints.TrainedSource.Load(path, checkpointDirectory, hyperparameters ?? new Dictionary<string, string>(), requireUnchangedSource);

    internal FnnFile WithWarnings(IReadOnlyList<string> warnings) => new(Path, SourceText, program, warnings);

    private static Microsoft.FSharp.Collections.FSharpMap<string, Tuple<Value, Lang.Syntax.Range>> Overrides(IReadOnlyDictionary<string, string>? hyperparameters)
    {
        var map = Microsoft.FSharp.Collections.MapModule.Empty<string, Tuple<Value, Lang.Syntax.Range>>();
        foreach (var (name, value) in hyperparameters ?? new Dictionary<string, string>())
        {
            var parsed = Language.parseOverride($"{name}={value}");
            if (parsed.IsError) throw new ArgumentException(parsed.ErrorValue, nameof(hyperparameters));
            map = map.Add(parsed.ResultValue.Item1, parsed.ResultValue.Item2);
        }
        return map;
    }

    /// <summary>
    /// The model called <paramref name="name"/> (one of the file's or an imported one), or the only model when null.
    /// Its <see cref="ModelInfo.Parameters"/> are read from the declarations on first use (nothing is compiled).
    /// </summary>
    /// <exception cref="ArgumentException">no model has that name, or the name is null and the file has several</exception>
    public ModelInfo Model(string? name = null)
    {
        var model = CheckedModel(name);
        return ModelInfo.From(model, new LazyList<ParameterInfo>(() => ParametersOf(model.Name)));
    }

    /// <summary>The parameters of a model, read from its declarations (nothing is compiled, no tensor made).</summary>
    private IReadOnlyList<ParameterInfo> ParametersOf(string model) =>
        Compiler.declaredParameters(CheckedModel(model))
            .Select(p => new ParameterInfo(p.Item1, p.Item2.Select(d => (long)d).ToArray(), true))
            .ToList();

    internal bool HasModel(string name) => program.Models.Concat(program.Imported).Any(m => m.Name == name);

    /// <summary>The checked model called <paramref name="name"/>, or the only model when null.</summary>
    internal Model CheckedModel(string? name = null)
    {
        var models = program.Models.ToList();
        if (name is null)
            return models.Count == 1
                ? models[0]
                : throw new ArgumentException($"{Path} has {models.Count} models ({string.Join(", ", ModelNames)}): name one", nameof(name));
        // A train block may train an imported model, so imported models can be named too.
        return models.Concat(program.Imported).FirstOrDefault(m => m.Name == name)
               ?? throw new ArgumentException($"{Path} has no model named '{name}'; its models are {string.Join(", ", ModelNames)}", nameof(name));
    }

    /// <summary>The settings and data of the model's <c>train</c> block.</summary>
    /// <exception cref="ArgumentException">no such model, or it has no train block</exception>
    public TrainingPlan TrainingPlan(string? model = null)
    {
        var name = CheckedModel(model).Name;
        var plan = program.Trains.FirstOrDefault(t => t.Model == name)
                   ?? throw new ArgumentException($"{Path} has no train block for {name}: add 'train {name} with ...'", nameof(model));
        return Training.TrainingPlan.FromChecked(plan);
    }

    /// <summary>Builds the model (fresh weights from <see cref="NetworkOptions.Seed"/>) on the chosen device, with the
    /// LoRA adapters <see cref="NetworkOptions.Lora"/> asks for.</summary>
    /// <exception cref="ArgumentException">no such model, or the name is null and the file has several, or a LoRA target
    /// pattern matches no projection (named by <see cref="FineTuning.LoraOptions.Targets"/>)</exception>
    /// <exception cref="ArgumentOutOfRangeException">a LoRA setting out of range</exception>
    public Network Compile(string? model = null, NetworkOptions? options = null)
    {
        options ??= new NetworkOptions();
        var checkedModel = CheckedModel(model);
        var placement = new Placement(options.Device.ToTorch(),
            options.Precision == Precision.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32);
        var lora = FineTuning.Adapters.Resolve(checkedModel, options.Lora);
        // The network's own generator, seeded: torch's global one is never touched.
        var compiled = Language.compileAdapted(placement,
            options.Seed is { } seed ? FSharpOption<long>.Some(seed) : FSharpOption<long>.None,
            lora is null ? FSharpOption<Lora.Settings>.None : FSharpOption<Lora.Settings>.Some(lora), checkedModel);
        return new Network(compiled, this, options);
    }
}
