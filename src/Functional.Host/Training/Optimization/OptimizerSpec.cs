using TorchSharp;
using static Functional.Training.Optimization.SpecOptions;
using Parameter = TorchSharp.Modules.Parameter;

namespace Functional.Training.Optimization;

/// <summary>
/// Which optimizer trains a network, with its settings, as PyTorch names them. Settings left null take the
/// optimizer's default (PyTorch's). <see cref="Create"/> validates and builds the optimizer.
/// </summary>
/// <param name="Name">sgd, rmsprop, adam or adamw.</param>
public sealed record OptimizerSpec(string Name)
{
    public const string Sgd = "sgd";
    public const string RmsProp = "rmsprop";
    public const string Adam = "adam";
    public const string AdamW = "adamw";

    /// <summary>The optimizers this layer builds.</summary>
    public static IReadOnlyList<string> Names { get; } = [Sgd, RmsProp, Adam, AdamW];

    /// <summary>Null: 0.01 for sgd and rmsprop, 0.001 for adam and adamw.</summary>
    public double? LearningRate { get; init; }

    /// <summary>sgd and rmsprop only; null means 0.</summary>
    public double? Momentum { get; init; }

    /// <summary>Nesterov momentum, sgd only (needs momentum &gt; 0).</summary>
    public bool Nesterov { get; init; }

    /// <summary>adam and adamw only; null means 0.9/0.999.</summary>
    public (double Beta1, double Beta2)? Betas { get; init; }

    /// <summary>The denominator's stabiliser of rmsprop, adam and adamw; null means 1e-8.</summary>
    public double? Eps { get; init; }

    /// <summary>rmsprop's smoothing constant (Keras's rho); null means 0.99.</summary>
    public double? Alpha { get; init; }

    /// <summary>
    /// sgd, rmsprop, adam: L2, added to the gradient as <c>decay * w</c> (the gradient of
    /// <c>decay/2 * |w|²</c>). adamw: decoupled, <c>w *= 1 - lr * decay</c> before the Adam update.
    /// Null means 0, but 0.01 for adamw as in PyTorch (TorchSharp's own default for AdamW is 0).
    /// </summary>
    public double? WeightDecay { get; init; }

    /// <summary>λ of an L1 penalty <c>λ * Σ|w|</c> that <see cref="TrainingOptimizer.Penalty(IEnumerable{Parameter})"/> adds to the loss; 0 is none.</summary>
    public double L1 { get; init; }

    /// <summary>Rescale the gradients before each step so their global L2 norm is at most this.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Clamp every gradient element to [-value, value] before each step (after <see cref="ClipNorm"/>).</summary>
    public double? ClipValue { get; init; }

    /// <summary>The same optimizer with another learning rate (for callers without C#'s <c>with</c>).</summary>
    public OptimizerSpec WithLearningRate(double rate) => this with { LearningRate = rate };

    public double EffectiveLearningRate => LearningRate ?? (Name is Adam or AdamW ? 1e-3 : 1e-2);
    public double EffectiveWeightDecay => WeightDecay ?? (Name == AdamW ? 0.01 : 0.0);
    internal double EffectiveMomentum => Momentum ?? 0.0;
    internal (double Beta1, double Beta2) EffectiveBetas => Betas ?? (0.9, 0.999);
    internal double EffectiveEps => Eps ?? 1e-8;
    internal double EffectiveAlpha => Alpha ?? 0.99;

    /// <summary>Throws an <see cref="ArgumentException"/> that says what is wrong, if anything is.</summary>
    public void Validate()
    {
        if (!Names.Contains(Name))
            throw new ArgumentException($"unknown optimizer '{Name}': expected one of {string.Join(", ", Names)}");
        Positive("the learning rate", EffectiveLearningRate);
        if (Momentum is { } momentum)
        {
            if (Name is not (Sgd or RmsProp))
                throw new ArgumentException($"momentum applies to sgd and rmsprop, not {Name} (which uses betas)");
            Fraction("the momentum", momentum);
        }
        if (Nesterov)
        {
            if (Name != Sgd) throw new ArgumentException($"nesterov applies to sgd only, not {Name}");
            if (!(EffectiveMomentum > 0)) throw new ArgumentException("nesterov needs momentum > 0");
        }
        if (Betas is { } betas)
        {
            if (Name is not (Adam or AdamW))
                throw new ArgumentException($"betas apply to adam and adamw, not {Name}");
            if (!(betas.Beta1 is >= 0 and < 1) || !(betas.Beta2 is >= 0 and < 1))
                throw new ArgumentException($"each beta must be in [0, 1), but the betas are {Show(betas.Beta1)}/{Show(betas.Beta2)}");
        }
        if (Eps is { } eps)
        {
            if (Name == Sgd) throw new ArgumentException("eps applies to rmsprop, adam and adamw, not sgd");
            NonNegative("eps", eps);
        }
        if (Alpha is { } alpha)
        {
            if (Name != RmsProp) throw new ArgumentException($"alpha applies to rmsprop only, not {Name}");
            Fraction("alpha", alpha);
        }
        NonNegative("the weight decay", EffectiveWeightDecay);
        NonNegative("the L1 penalty", L1);
        if (ClipNorm is { } norm) Positive("clip_norm", norm);
        if (ClipValue is { } value) Positive("clip_value", value);
    }

    /// <summary>
    /// Validates, then builds the optimizer over <paramref name="parameters"/> (pass only trainable ones).
    /// Build it after the model has moved to its device: its state is made like the parameters.
    /// </summary>
    public TrainingOptimizer Create(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Validate();
        var list = parameters.ToList();
        if (list.Count == 0) throw new ArgumentException("there are no parameters to optimize", nameof(parameters));
        var lr = EffectiveLearningRate;
        var decay = EffectiveWeightDecay;
        var (beta1, beta2) = EffectiveBetas;
        ParameterUpdate update = Name switch
        {
            Sgd => new SgdUpdate(list, EffectiveMomentum, Nesterov, decay),
            RmsProp => new RmsPropUpdate(list, EffectiveAlpha, EffectiveEps, decay, EffectiveMomentum),
            Adam => new AdamUpdate(list, beta1, beta2, EffectiveEps, decay, decoupled: false),
            _ => new AdamUpdate(list, beta1, beta2, EffectiveEps, decay, decoupled: true),
        };
        return new TrainingOptimizer(this, list, update, lr);
    }

    /// <summary>
    /// Reads an optimizer from its name and <c>option=value</c> settings, e.g. <c>adam</c> with
    /// <c>lr=0.001, betas=0.9/0.999</c>. Options: lr, momentum, nesterov, betas (or beta1, beta2), eps,
    /// alpha (rho), weight_decay, l1, clip_norm, clip_value, each where it applies.
    /// </summary>
    public static OptimizerSpec Parse(string name, IReadOnlyDictionary<string, string>? options)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalised = Normalise(name);
        if (!Names.Contains(normalised))
            throw new ArgumentException($"unknown optimizer '{name}': expected one of {string.Join(", ", Names)}");
        string[] valid = normalised switch
        {
            Sgd => ["lr", "momentum", "nesterov", "weight_decay", "l1", "clip_norm", "clip_value"],
            RmsProp => ["lr", "momentum", "alpha", "eps", "weight_decay", "l1", "clip_norm", "clip_value"],
            _ => ["lr", "betas", "beta1", "beta2", "eps", "weight_decay", "l1", "clip_norm", "clip_value"],
        };
        var read = SpecOptions.Read(normalised, options, valid, Aliases);
        var betas = read.Pair("betas");
        var (beta1, beta2) = (read.Double("beta1"), read.Double("beta2"));
        if (betas is not null && (beta1 is not null || beta2 is not null))
            throw new ArgumentException($"give {normalised} betas or beta1/beta2, not both");
        if (beta1 is not null || beta2 is not null)
            betas = (beta1 ?? 0.9, beta2 ?? 0.999);
        var spec = new OptimizerSpec(normalised)
        {
            LearningRate = read.Double("lr"),
            Momentum = read.Double("momentum"),
            Nesterov = read.Bool("nesterov") ?? false,
            Betas = betas,
            Eps = read.Double("eps"),
            Alpha = read.Double("alpha"),
            WeightDecay = read.Double("weight_decay"),
            L1 = read.Double("l1") ?? 0,
            ClipNorm = read.Double("clip_norm"),
            ClipValue = read.Double("clip_value"),
        };
        spec.Validate();
        return spec;
    }

    /// <summary>Reads <c>adam(lr=0.001, betas=0.9/0.999)</c> or a bare name; see <see cref="Parse(string, IReadOnlyDictionary{string, string})"/>.</summary>
    public static OptimizerSpec Parse(string text)
    {
        var (name, options) = SplitCall(text, "an optimizer");
        return Parse(name, options);
    }

    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["learning_rate"] = "lr",
        ["epsilon"] = "eps",
        ["rho"] = "alpha",
        ["clipnorm"] = "clip_norm",
        ["clipvalue"] = "clip_value",
    };

    private static void Positive(string what, double value)
    {
        if (!(value > 0)) throw new ArgumentException($"{what} must be positive, but it is {Show(value)}");
        if (double.IsInfinity(value)) throw new ArgumentException($"{what} must be finite, but it is {Show(value)}");
    }

    private static void NonNegative(string what, double value)
    {
        if (!(value >= 0)) throw new ArgumentException($"{what} must not be negative, but it is {Show(value)}");
        if (double.IsInfinity(value)) throw new ArgumentException($"{what} must be finite, but it is {Show(value)}");
    }

    private static void Fraction(string what, double value)
    {
        if (!(value is >= 0 and < 1)) throw new ArgumentException($"{what} must be in [0, 1), but it is {Show(value)}");
    }
}
