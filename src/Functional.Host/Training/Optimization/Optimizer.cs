using System.Diagnostics;
using Functional.Lang;
using Functional.Lang.Checking;
using Functional.Networks;
using static Functional.Training.Optimization.SettingChecks;
using Parameter = TorchSharp.Modules.Parameter;

namespace Functional.Training.Optimization;

/// <summary>
/// An optimizer with its settings, checked by the language's rules: the same as a train block's
/// <c>optimizer = adamw (lr = 0.001, weightDecay = 0.05)</c>, with the same option names
/// (<c>Optimizer.AdamW(lr: 0.001, weightDecay: 0.05)</c>). A setting left out takes PyTorch's default.
/// <see cref="Create"/> builds its update rule over a network's parameters.
/// </summary>
public sealed class Optimizer : IEquatable<Optimizer>
{
    internal Optimizer(OptimizerSettings settings) => Settings = settings;

    /// <summary>The checked settings, every one given or defaulted.</summary>
    internal OptimizerSettings Settings { get; }

    /// <summary>sgd, rmsprop, adam or adamw.</summary>
    public string Name => TrainSettings.optimizerName(Settings);

    /// <summary>The learning rate it starts from (the option <c>lr</c>).</summary>
    public double LearningRate => Settings.Lr;

    /// <summary>The option <c>momentum</c> of sgd and rmsprop; null for adam and adamw.</summary>
    public double? Momentum => Settings.Rule switch
    {
        OptimizerRule.Sgd { Item: var s } => s.Momentum,
        OptimizerRule.RmsProp { Item: var r } => r.Momentum,
        _ => null,
    };

    /// <summary>The option <c>nesterov</c> of sgd; false for the others.</summary>
    public bool Nesterov => Settings.Rule is OptimizerRule.Sgd { Item.Nesterov: true };

    /// <summary>The option <c>alpha</c> of rmsprop; null for the others.</summary>
    public double? Alpha => Settings.Rule is OptimizerRule.RmsProp { Item: var r } ? r.Alpha : null;

    /// <summary>The option <c>beta1</c> of adam and adamw; null for the others.</summary>
    public double? Beta1 => Moments()?.Beta1;

    /// <summary>The option <c>beta2</c> of adam and adamw; null for the others.</summary>
    public double? Beta2 => Moments()?.Beta2;

    /// <summary>The option <c>eps</c> of rmsprop, adam and adamw; null for sgd.</summary>
    public double? Eps => Settings.Rule is OptimizerRule.RmsProp { Item: var r } ? r.Eps : Moments()?.Eps;

    /// <summary>The option <c>weightDecay</c>: L2 added to the gradient, or decoupled for adamw.</summary>
    public double WeightDecay => Settings.WeightDecay;

    /// <summary>The option <c>l1</c>: λ of the penalty λ·Σ|w| added to the loss (0: none).</summary>
    public double L1 => Settings.L1;

    /// <summary>The option <c>clipNorm</c>, if given.</summary>
    public double? ClipNorm => Settings.ClipNorm?.Value;

    /// <summary>The option <c>clipValue</c>, if given.</summary>
    public double? ClipValue => Settings.ClipValue?.Value;

    private AdamSettings? Moments() => Settings.Rule switch
    {
        OptimizerRule.Adam { Item: var a } => a,
        OptimizerRule.AdamW { Item: var a } => a,
        _ => null,
    };

    /// <summary>Stochastic gradient descent, as PyTorch's SGD.</summary>
    /// <param name="lr">The learning rate, positive (default 0.01).</param>
    /// <param name="momentum">In [0, 1) (default 0).</param>
    /// <param name="nesterov">Nesterov momentum (default false); needs momentum above 0.</param>
    /// <param name="weightDecay">L2 added to the gradient as <c>weightDecay * w</c>, 0 or more (default 0).</param>
    /// <param name="l1">λ of an L1 penalty <c>λ * Σ|w|</c> added to the loss, 0 or more (default 0).</param>
    /// <param name="clipNorm">Clip the gradients' global L2 norm to this before each step, positive (default none).</param>
    /// <param name="clipValue">Clamp each gradient element to [-clipValue, clipValue], positive (default none).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Optimizer Sgd(double? lr = null, double? momentum = null, bool? nesterov = null, double? weightDecay = null,
        double? l1 = null, double? clipNorm = null, double? clipValue = null) =>
        Make("sgd", [.. Common(lr, weightDecay, l1, clipNorm, clipValue), Real("momentum", momentum), Flag("nesterov", nesterov)]);

    /// <summary>RMSprop, as PyTorch's (not centred).</summary>
    /// <param name="lr">The learning rate, positive (default 0.01).</param>
    /// <param name="alpha">The smoothing constant of the squared gradients (Keras's rho), in [0, 1) (default 0.99).</param>
    /// <param name="eps">Added to the denominator, positive (default 1e-8).</param>
    /// <param name="momentum">In [0, 1) (default 0).</param>
    /// <param name="weightDecay">L2 added to the gradient, 0 or more (default 0).</param>
    /// <param name="l1">λ of an L1 penalty added to the loss, 0 or more (default 0).</param>
    /// <param name="clipNorm">Clip the gradients' global L2 norm to this, positive (default none).</param>
    /// <param name="clipValue">Clamp each gradient element to [-clipValue, clipValue], positive (default none).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Optimizer RmsProp(double? lr = null, double? alpha = null, double? eps = null, double? momentum = null,
        double? weightDecay = null, double? l1 = null, double? clipNorm = null, double? clipValue = null) =>
        Make("rmsprop", [.. Common(lr, weightDecay, l1, clipNorm, clipValue), Real("alpha", alpha), Real("eps", eps), Real("momentum", momentum)]);

    /// <summary>Adam, as PyTorch's (without amsgrad); weight decay is L2 added to the gradient.</summary>
    /// <param name="lr">The learning rate, positive (default 0.001).</param>
    /// <param name="beta1">The first moment's decay, in [0, 1) (default 0.9).</param>
    /// <param name="beta2">The second moment's decay, in [0, 1) (default 0.999).</param>
    /// <param name="eps">Added to the denominator, positive (default 1e-8).</param>
    /// <param name="weightDecay">L2 added to the gradient, 0 or more (default 0).</param>
    /// <param name="l1">λ of an L1 penalty added to the loss, 0 or more (default 0).</param>
    /// <param name="clipNorm">Clip the gradients' global L2 norm to this, positive (default none).</param>
    /// <param name="clipValue">Clamp each gradient element to [-clipValue, clipValue], positive (default none).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Optimizer Adam(double? lr = null, double? beta1 = null, double? beta2 = null, double? eps = null,
        double? weightDecay = null, double? l1 = null, double? clipNorm = null, double? clipValue = null) =>
        Make("adam", [.. Common(lr, weightDecay, l1, clipNorm, clipValue), .. Moments(beta1, beta2, eps)]);

    /// <summary>AdamW, as PyTorch's: Adam with decoupled weight decay, <c>w *= 1 - lr * weightDecay</c> before each step.</summary>
    /// <param name="lr">The learning rate, positive (default 0.001).</param>
    /// <param name="beta1">The first moment's decay, in [0, 1) (default 0.9).</param>
    /// <param name="beta2">The second moment's decay, in [0, 1) (default 0.999).</param>
    /// <param name="eps">Added to the denominator, positive (default 1e-8).</param>
    /// <param name="weightDecay">The decoupled decay, 0 or more (default 0.01, PyTorch's).</param>
    /// <param name="l1">λ of an L1 penalty added to the loss, 0 or more (default 0).</param>
    /// <param name="clipNorm">Clip the gradients' global L2 norm to this, positive (default none).</param>
    /// <param name="clipValue">Clamp each gradient element to [-clipValue, clipValue], positive (default none).</param>
    /// <exception cref="ArgumentOutOfRangeException">a setting is out of its range; the exception names it</exception>
    public static Optimizer AdamW(double? lr = null, double? beta1 = null, double? beta2 = null, double? eps = null,
        double? weightDecay = null, double? l1 = null, double? clipNorm = null, double? clipValue = null) =>
        Make("adamw", [.. Common(lr, weightDecay, l1, clipNorm, clipValue), .. Moments(beta1, beta2, eps)]);

    /// <summary>
    /// Reads an optimizer written in the language, as a train block's <c>optimizer</c> setting is
    /// (<c>adamw(lr=0.001, weightDecay=0.05)</c>, or a bare name for its defaults).
    /// </summary>
    /// <param name="text">The optimizer.</param>
    /// <param name="origin">What the diagnostics call the text, as they call a file (<c>--optimizer:1:7: error: ...</c>).</param>
    /// <exception cref="FnnCompileException">the text is not an optimizer, or a setting is out of its range</exception>
    public static Optimizer Parse(string text, string origin = "optimizer")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(origin);
        var result = Language.checkOptimizer(origin, text);
        if (result.IsError)
            throw new FnnCompileException(Language.render(origin, text, result.ErrorValue), result.ErrorValue.ToList());
        return new Optimizer(result.ResultValue);
    }

    /// <summary>The same optimizer starting from another learning rate (what <c>--lr</c> does).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> is not a positive number a float32 can hold</exception>
    public Optimizer WithLearningRate(double lr) => new(Unwrap(TrainSettings.withLr(lr, Settings)));

    /// <summary>
    /// Builds the update rule over <paramref name="parameters"/> (pass only trainable ones). Build it after the
    /// model has moved to its device: its state is made like the parameters.
    /// </summary>
    /// <exception cref="ArgumentException">there are no parameters</exception>
    public TrainingOptimizer Create(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        if (list.Count == 0) throw new ArgumentException("there are no parameters to optimize", nameof(parameters));
        var decay = Settings.WeightDecay;
        ParameterUpdate update = Settings.Rule switch
        {
            OptimizerRule.Sgd { Item: var s } => new SgdUpdate(list, s.Momentum, s.Nesterov, decay),
            OptimizerRule.RmsProp { Item: var r } => new RmsPropUpdate(list, r.Alpha, r.Eps, decay, r.Momentum),
            OptimizerRule.Adam { Item: var a } => new AdamUpdate(list, a.Beta1, a.Beta2, a.Eps, decay, decoupled: false),
            OptimizerRule.AdamW { Item: var a } => new AdamUpdate(list, a.Beta1, a.Beta2, a.Eps, decay, decoupled: true),
            _ => throw new UnreachableException($"an optimizer rule without an update: {Settings.Rule}"),
        };
        return new TrainingOptimizer(this, list, update, Settings.Lr);
    }

    /// <summary>
    /// Builds the update rule over named parameters (a network's, by path): their state is saved under those names,
    /// and <see cref="TrainingOptimizer.SetLearningRate"/> can give one its own rate.
    /// </summary>
    /// <exception cref="ArgumentException">there are no parameters, or two share a name</exception>
    public TrainingOptimizer CreateByPath(IEnumerable<KeyValuePair<string, Parameter>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        var twice = list.GroupBy(p => p.Key).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ArgumentException($"two parameters are named '{Excerpt.@short(twice.Key)}'", nameof(parameters));
        var optimizer = Create(list.Select(p => p.Value));
        optimizer.Name(list.Select(p => p.Key).ToList());
        return optimizer;
    }

    /// <summary>The optimizer as the language writes it, every setting spelled out: <c>adam (lr = 0.001, beta1 = 0.9, ...)</c>.</summary>
    public override string ToString() => TrainSettings.describeOptimizer(Settings);

    /// <summary>Whether the two have the same settings (defaults included: <c>Adam()</c> equals <c>Adam(lr: 0.001)</c>).</summary>
    public bool Equals(Optimizer? other) => other is not null && Settings.Equals(other.Settings);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Optimizer other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Settings.GetHashCode();

    private static Optimizer Make(string name, IEnumerable<(string, SettingValue?)> options) =>
        new(Unwrap(TrainSettings.optimizer(name, Given(options))));

    private static IEnumerable<(string, SettingValue?)> Common(double? lr, double? weightDecay, double? l1, double? clipNorm, double? clipValue) =>
        [Real("lr", lr), Real("weightDecay", weightDecay), Real("l1", l1), Real("clipNorm", clipNorm), Real("clipValue", clipValue)];

    private static IEnumerable<(string, SettingValue?)> Moments(double? beta1, double? beta2, double? eps) =>
        [Real("beta1", beta1), Real("beta2", beta2), Real("eps", eps)];
}
