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

    private FnnFile(string path, string text, CheckedProgram program)
    {
        Path = path;
        SourceText = text;
        this.program = program;
        SourceHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The path the source was read from (or the name it was given).</summary>
    public string Path { get; }

    public string SourceText { get; }

    /// <summary>SHA-256 of the source text, recorded in checkpoints.</summary>
    public string SourceHash { get; }

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
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
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
            throw new FnnCompileException(Language.renderWith(sources, result.ErrorValue), result.ErrorValue.ToList());
        return new FnnFile(fileName, source, result.ResultValue);
    }

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

    /// <summary>The checked model called <paramref name="name"/>, or the only model when null.</summary>
    public Model Model(string? name = null)
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
    public TrainingPlan TrainingPlan(string? model = null)
    {
        var name = Model(model).Name;
        var plan = program.Trains.FirstOrDefault(t => t.Model == name)
                   ?? throw new ArgumentException($"{Path} has no train block for {name}: add 'train {name} with ...'", nameof(model));
        return Training.TrainingPlan.FromChecked(plan);
    }

    /// <summary>Builds the model (fresh weights from <see cref="NetworkOptions.Seed"/>) on the chosen device.</summary>
    public Network Compile(string? model = null, NetworkOptions? options = null)
    {
        options ??= new NetworkOptions();
        var checkedModel = Model(model);
        var placement = new Placement(options.Device.ToTorch(),
            options.Precision == Precision.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32);
        // The network's own generator, seeded: torch's global one is never touched.
        var compiled = options.Seed is { } seed
            ? Language.compileSeeded(placement, seed, checkedModel)
            : Language.compile(placement, checkedModel);
        return new Network(compiled, this, options);
    }
}
