using Functional.Devices;
using Functional.Networks;
using Functional.Serving;

namespace Functional.Hosting;

/// <summary>
/// One served model's settings, bound from configuration section <c>Functional:Models:{name}</c> (appsettings.json,
/// environment variables <c>Functional__Models__{name}__Source</c>, command-line <c>--Functional:Models:{name}:Source=...</c>)
/// and then from the code given to <see cref="FunctionalServiceCollectionExtensions.AddFunctionalModel"/>.
/// Relative paths are relative to the current folder.
/// </summary>
public sealed class FunctionalModelOptions
{
    /// <summary>False leaves a model that configuration lists unserved (by <see cref="FunctionalServiceCollectionExtensions.AddFunctionalModels(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>); true by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The <c>.fnn</c> file; null: the source the checkpoint's model.json names.</summary>
    public string? Source { get; set; }

    /// <summary>The checkpoint folder (written by <c>fnn train --out</c>, <c>Network.Save</c> or a training run). Required.</summary>
    public string? Checkpoint { get; set; }

    /// <summary>A LoRA adapter folder to load onto the checkpoint; null: none.</summary>
    public string? Adapter { get; set; }

    /// <summary>Where it computes: <c>cpu</c> (the default), <c>cuda</c>, <c>cuda:1</c> or <c>auto</c>.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>The name of each class, for a classifier whose checkpoint records none (Fashion-MNIST's IDX files name
    /// none); null: the checkpoint's.</summary>
    public List<string>? ClassNames { get; set; }

    /// <summary>Refuse NaN and infinite inputs (the default), or pass them to the model.</summary>
    public NonFiniteInputs NonFinite { get; set; } = NonFiniteInputs.Reject;

    /// <summary>The most examples one request may give; 1024 by default.</summary>
    public int MaxExamplesPerCall { get; set; } = 1024;

    /// <summary>The most calls computing at once; null (the default): no bound. 1 serialises them.</summary>
    public int? MaxConcurrentCalls { get; set; }

    /// <summary>The longest prompt in tokens; null: the model's context.</summary>
    public int? MaxPromptTokens { get; set; }

    /// <summary>The most new tokens one generation may ask for; 1024 by default.</summary>
    public int MaxNewTokens { get; set; } = 1024;

    /// <summary>Micro-batching of concurrent predictions; off by default.</summary>
    public BatchingSettings Batching { get; set; } = new();

    /// <summary>Load the checkpoint again when its files are replaced (a training run's new epoch, a deployment); on by default.</summary>
    public bool ReloadOnChange { get; set; } = true;

    /// <summary>How often the checkpoint's files are looked at, in seconds; above 0. 2 by default.</summary>
    public double ReloadPollSeconds { get; set; } = 2;

    /// <summary>Micro-batching settings (<see cref="MicroBatchingOptions"/>).</summary>
    public sealed class BatchingSettings
    {
        /// <summary>Gather concurrent predictions into one forward pass; false by default.</summary>
        public bool Enabled { get; set; }

        /// <summary>How long the first call of a batch waits for others, in milliseconds; 2 by default.</summary>
        public double WindowMilliseconds { get; set; } = 2;

        /// <summary>The most examples one pass takes; 64 by default.</summary>
        public int MaxBatchSize { get; set; } = 64;
    }

    /// <summary>The predictor's options, checked; the message names the configuration key.</summary>
    /// <exception cref="ArgumentException">a setting is missing or out of range</exception>
    internal PredictorOptions ToPredictorOptions(string name)
    {
        var section = $"Functional:Models:{name}";
        if (string.IsNullOrWhiteSpace(Checkpoint))
            throw new ArgumentException($"{section}:Checkpoint is not set: give the checkpoint folder of model '{name}'");
        if (!(ReloadPollSeconds > 0))
            throw new ArgumentException($"{section}:ReloadPollSeconds is {ReloadPollSeconds}; it must be above 0");
        ComputeDevice device;
        try
        {
            device = ComputeDevice.Parse(Device);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"{section}:Device: {e.Message}", e);
        }
        var options = new PredictorOptions
        {
            Device = device,
            Adapter = Adapter,
            NonFinite = NonFinite,
            ClassNames = ClassNames,
            MaxExamplesPerCall = MaxExamplesPerCall,
            MaxConcurrentCalls = MaxConcurrentCalls,
            MaxPromptTokens = MaxPromptTokens,
            MaxNewTokens = MaxNewTokens,
        };
        // The batching settings are checked when batching is off too: a typo should not wait until it is turned on.
        var batching = new MicroBatchingOptions { Window = TimeSpan.FromMilliseconds(Batching.WindowMilliseconds), MaxBatchSize = Batching.MaxBatchSize };
        try
        {
            batching.Validate();
            options = options with { MicroBatching = Batching.Enabled ? batching : null };
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            var key = e.ParamName switch
            {
                nameof(MicroBatchingOptions.Window) => "Batching:WindowMilliseconds",
                nameof(MicroBatchingOptions.MaxBatchSize) => "Batching:MaxBatchSize",
                _ => e.ParamName,
            };
            throw new ArgumentException($"{section}:{key}: {e.Message.Split(" (Parameter")[0]}", e);
        }
        return options;
    }
}
