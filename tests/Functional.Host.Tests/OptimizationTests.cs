using Functional.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Host.Tests;

/// <summary>
/// Optimizers, penalties, clipping, schedules and state, on one tiny float64 parameter <c>w</c> whose
/// gradient is known: the loss <c>Σ w·c</c> has the gradient <c>c</c>.
/// </summary>
public class OptimizationTests
{
    private static readonly double[] W0 = [1.0, -2.0, 3.0];
    private static readonly double[] C = [0.5, -1.0, 2.0];

    private static Parameter NewWeights(double[]? values = null, ScalarType dtype = ScalarType.Float64) =>
        new(tensor(values ?? W0, dtype: dtype), requires_grad: true);

    /// <summary>One step on the loss Σ w·c (gradient c).</summary>
    private static void StepWith(TrainingOptimizer optimizer, Parameter w, double[] c)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        (w * tensor(c, dtype: w.dtype)).sum().backward();
        optimizer.Step();
    }

    private static double[] Values(Tensor t)
    {
        using var copy = t.to_type(ScalarType.Float64);
        return copy.data<double>().ToArray();
    }

    private static double[] Grad(Parameter p)
    {
        using var grad = p.grad ?? throw new InvalidOperationException("no gradient");
        return Values(grad);
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R}\nexpected [{string.Join(", ", expected)}]\nactual   [{string.Join(", ", actual)}]");
    }

    private static double[] Map(Func<int, double> f) => Enumerable.Range(0, W0.Length).Select(f).ToArray();

    // ---- optimizers, step by step against the formulas ----

    [Fact]
    public void Sgd_subtracts_lr_times_the_gradient()
    {
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: 0.1).Create([w]);
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - 0.1 * C[i]), Values(w));
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - 0.2 * C[i]), Values(w));
    }

    [Fact]
    public void Sgd_with_momentum_accumulates_the_gradients()
    {
        const double lr = 0.1, mu = 0.9;
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: lr, momentum: mu).Create([w]);
        // Step 1: buffer = c, w1 = w0 - lr c. Step 2: buffer = mu c + c, w2 = w1 - lr (1 + mu) c.
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - lr * C[i]), Values(w));
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - lr * C[i] - lr * (1 + mu) * C[i]), Values(w));
    }

    [Fact]
    public void Sgd_with_nesterov_looks_ahead_along_the_momentum()
    {
        const double lr = 0.1, mu = 0.9;
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: lr, momentum: mu, nesterov: true).Create([w]);
        // Step 1: buffer = c, update c + mu c. Step 2: buffer = (1 + mu) c, update c + mu (1 + mu) c.
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - lr * (1 + mu) * C[i]), Values(w));
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - lr * (1 + mu) * C[i] - lr * (1 + mu + mu * mu) * C[i]), Values(w));
    }

    [Fact]
    public void Sgd_weightDecay_adds_decay_times_w_to_the_gradient()
    {
        const double lr = 0.1, decay = 0.5;
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: lr, weightDecay: decay).Create([w]);
        StepWith(sgd, w, C);
        var w1 = Map(i => W0[i] - lr * (C[i] + decay * W0[i]));
        AssertClose(w1, Values(w));
        StepWith(sgd, w, C);
        AssertClose(Map(i => w1[i] - lr * (C[i] + decay * w1[i])), Values(w));
    }

    [Fact]
    public void RmsProp_divides_by_the_root_mean_square_of_the_gradients()
    {
        const double lr = 0.01, alpha = 0.9, eps = 1e-8;
        using var w = NewWeights();
        using var rms = Optimizer.RmsProp(lr: lr, alpha: alpha, eps: eps).Create([w]);
        StepWith(rms, w, C);
        var v1 = Map(i => (1 - alpha) * C[i] * C[i]);
        var w1 = Map(i => W0[i] - lr * C[i] / (Math.Sqrt(v1[i]) + eps));
        AssertClose(w1, Values(w));
        // The first step is lr * sign(c) / sqrt(1 - alpha), whatever the gradient's size.
        AssertClose(Map(i => W0[i] - lr * Math.Sign(C[i]) / Math.Sqrt(1 - alpha)), Values(w), 1e-6);
        StepWith(rms, w, C);
        var v2 = Map(i => alpha * v1[i] + (1 - alpha) * C[i] * C[i]);
        AssertClose(Map(i => w1[i] - lr * C[i] / (Math.Sqrt(v2[i]) + eps)), Values(w));
    }

    [Fact]
    public void RmsProp_with_momentum_accumulates_the_scaled_gradients()
    {
        const double lr = 0.01, alpha = 0.99, eps = 1e-8, mu = 0.5;
        using var w = NewWeights();
        using var rms = Optimizer.RmsProp(lr: lr, momentum: mu).Create([w]);
        StepWith(rms, w, C);
        StepWith(rms, w, C);
        var v1 = Map(i => (1 - alpha) * C[i] * C[i]);
        var v2 = Map(i => alpha * v1[i] + (1 - alpha) * C[i] * C[i]);
        var b1 = Map(i => C[i] / (Math.Sqrt(v1[i]) + eps));
        var b2 = Map(i => mu * b1[i] + C[i] / (Math.Sqrt(v2[i]) + eps));
        AssertClose(Map(i => W0[i] - lr * b1[i] - lr * b2[i]), Values(w));
    }

    /// <summary>Adam, as PyTorch writes it: bias-corrected moments, eps added to the corrected root.</summary>
    private static double[] AdamStep(double[] w, double[] g, double[] m, double[] v, int t,
        double lr, double beta1, double beta2, double eps) => Map(i =>
    {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        var denominator = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps;
        return w[i] - lr / (1 - Math.Pow(beta1, t)) * m[i] / denominator;
    });

    [Fact]
    public void Adam_takes_bias_corrected_steps()
    {
        const double lr = 0.01;
        using var w = NewWeights();
        using var adam = Optimizer.Adam(lr: lr).Create([w]);
        double[] m = new double[3], v = new double[3];
        StepWith(adam, w, C);
        var w1 = AdamStep(W0, C, m, v, 1, lr, 0.9, 0.999, 1e-8);
        AssertClose(w1, Values(w));
        // The first step moves every weight by lr against its gradient's sign.
        AssertClose(Map(i => W0[i] - lr * Math.Sign(C[i])), Values(w), 1e-6);
        StepWith(adam, w, C);
        AssertClose(AdamStep(w1, C, m, v, 2, lr, 0.9, 0.999, 1e-8), Values(w));
    }

    [Fact]
    public void Adam_uses_the_given_betas_and_eps()
    {
        const double lr = 0.05, beta1 = 0.5, beta2 = 0.75, eps = 0.1;
        using var w = NewWeights();
        using var adam = Optimizer.Parse("adam(lr=0.05, beta1=0.5, beta2=0.75, eps=0.1)").Create([w]);
        double[] m = new double[3], v = new double[3];
        StepWith(adam, w, C);
        var w1 = AdamStep(W0, C, m, v, 1, lr, beta1, beta2, eps);
        AssertClose(w1, Values(w));
        StepWith(adam, w, C);
        AssertClose(AdamStep(w1, C, m, v, 2, lr, beta1, beta2, eps), Values(w));
    }

    [Fact]
    public void AdamW_decays_the_weights_apart_from_the_gradient_while_Adam_folds_L2_into_it()
    {
        const double lr = 0.1, decay = 0.5;
        using var wAdam = NewWeights();
        using var wAdamW = NewWeights();
        using var adam = Optimizer.Adam(lr: lr, weightDecay: decay).Create([wAdam]);
        using var adamW = Optimizer.AdamW(lr: lr, weightDecay: decay).Create([wAdamW]);
        double[] m1 = new double[3], v1 = new double[3], m2 = new double[3], v2 = new double[3];
        var expectedAdam = W0;
        var expectedAdamW = W0;
        for (var t = 1; t <= 2; t++)
        {
            StepWith(adam, wAdam, C);
            StepWith(adamW, wAdamW, C);
            // Adam + L2: the gradient becomes c + decay * w, then goes through the moments.
            var w = expectedAdam;
            expectedAdam = AdamStep(w, Map(i => C[i] + decay * w[i]), m1, v1, t, lr, 0.9, 0.999, 1e-8);
            // AdamW: w *= 1 - lr * decay, then the plain Adam step on c.
            var shrunk = Map(i => expectedAdamW[i] * (1 - lr * decay));
            expectedAdamW = AdamStep(shrunk, C, m2, v2, t, lr, 0.9, 0.999, 1e-8);
            AssertClose(expectedAdam, Values(wAdam));
            AssertClose(expectedAdamW, Values(wAdamW));
        }
        // After one step Adam's normalisation has swallowed the L2 term (a step of lr against the sign of
        // c + decay w), while AdamW has shrunk every weight by lr * decay first: [0.9, -1.9, 2.9] against
        // [0.85, -1.8, 2.75].
        using var w0 = NewWeights();
        using var adam1 = Optimizer.Adam(lr: lr, weightDecay: decay).Create([w0]);
        StepWith(adam1, w0, C);
        AssertClose([0.9, -1.9, 2.9], Values(w0), 1e-6);
        using var w0W = NewWeights();
        using var adamW1 = Optimizer.AdamW(lr: lr, weightDecay: decay).Create([w0W]);
        StepWith(adamW1, w0W, C);
        AssertClose([0.85, -1.8, 2.75], Values(w0W), 1e-6);
    }

    [Fact]
    public void AdamW_defaults_to_PyTorchs_weightDecay_of_0_01()
    {
        const double lr = 0.01;
        var spec = Optimizer.AdamW(lr: lr);
        Assert.Equal(0.01, spec.WeightDecay);
        Assert.Equal(0.0, Optimizer.Adam().WeightDecay);
        using var w = NewWeights();
        using var adamW = spec.Create([w]);
        StepWith(adamW, w, C);
        AssertClose(AdamStep(Map(i => W0[i] * (1 - lr * 0.01)), C, new double[3], new double[3], 1, lr, 0.9, 0.999, 1e-8), Values(w));
    }

    [Theory]
    [InlineData("sgd", 0.01)]
    [InlineData("rmsprop", 0.01)]
    [InlineData("adam", 0.001)]
    [InlineData("adamw", 0.001)]
    public void Default_learning_rates_are_PyTorchs(string name, double expected)
    {
        Assert.Equal(expected, Optimizer.Parse(name).LearningRate);
        using var w = NewWeights();
        using var optimizer = Optimizer.Parse(name).Create([w]);
        Assert.Equal(expected, optimizer.LearningRate);
    }

    // ---- L1 penalty ----

    [Fact]
    public void L1_penalty_is_lambda_times_the_sum_of_absolute_weights_and_its_gradient_is_lambda_sign_w()
    {
        const double lambda = 0.25;
        using var w = NewWeights();
        using var other = NewWeights([-4.0]);
        using var sgd = Optimizer.Sgd(lr: 0.1, l1: lambda).Create([w, other]);
        using var scope = NewDisposeScope();
        sgd.ZeroGrad();
        var onW = sgd.Penalty([w])!;
        Assert.Equal(lambda * (1 + 2 + 3), onW.ToDouble(), 12);
        var all = sgd.Penalty()!;
        Assert.Equal(lambda * (1 + 2 + 3 + 4), all.ToDouble(), 12);
        all.backward();
        AssertClose(Map(i => lambda * Math.Sign(W0[i])), Grad(w));
        AssertClose([-lambda], Grad(other));
    }

    [Fact]
    public void No_L1_means_no_penalty()
    {
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd().Create([w]);
        Assert.Null(sgd.Penalty());
    }

    // ---- clipping ----

    [Fact]
    public void Clipping_by_norm_rescales_all_gradients_together_to_the_maximum_norm()
    {
        using var a = NewWeights([1.0]);
        using var b = NewWeights([1.0]);
        using var sgd = Optimizer.Sgd(lr: 1, clipNorm: 1).Create([a, b]);
        using var scope = NewDisposeScope();
        sgd.ZeroGrad();
        (a * 3.0 + b * 4.0).sum().backward(); // gradients 3 and 4: norm 5
        Assert.Equal(5.0, sgd.ClipGradients()!.Value, 12);
        var (ga, gb) = (Grad(a)[0], Grad(b)[0]);
        Assert.Equal(1.0, Math.Sqrt(ga * ga + gb * gb), 6);
        Assert.Equal(0.6, ga, 6);
        Assert.Equal(0.8, gb, 6);
    }

    [Fact]
    public void Step_clips_before_updating()
    {
        using var a = NewWeights([1.0]);
        using var b = NewWeights([1.0]);
        using var sgd = Optimizer.Sgd(lr: 1, clipNorm: 1).Create([a, b]);
        using (var scope = NewDisposeScope())
        {
            sgd.ZeroGrad();
            (a * 3.0 + b * 4.0).sum().backward();
            sgd.Step();
        }
        Assert.Equal(1 - 0.6, Values(a)[0], 6);
        Assert.Equal(1 - 0.8, Values(b)[0], 6);
    }

    [Fact]
    public void Clipping_by_norm_leaves_smaller_gradients_alone()
    {
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: 0.1, clipNorm: 100).Create([w]);
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - 0.1 * C[i]), Values(w));
    }

    [Fact]
    public void Clipping_by_value_clamps_each_element()
    {
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: 0.1, clipValue: 0.75).Create([w]);
        Assert.Null(sgd.ClipGradients());
        StepWith(sgd, w, C);
        AssertClose([0.5, -0.75, 0.75], Grad(w));
        AssertClose(Map(i => W0[i] - 0.1 * Math.Clamp(C[i], -0.75, 0.75)), Values(w));
    }

    [Theory]
    [InlineData("sgd(lr=0.1, momentum=0.9, clipNorm=1, clipValue=0.5)")]
    [InlineData("adam(lr=0.1, clipNorm=1)")]
    [InlineData("adamw(lr=0.1, clipValue=1)")]
    [InlineData("rmsprop(lr=0.1, clipNorm=1)")]
    public void A_parameter_the_loss_does_not_use_is_left_alone(string text)
    {
        using var used = NewWeights();
        using var unused = NewWeights([7.0]);
        using var optimizer = Optimizer.Parse(text).Create([used, unused]);
        StepWith(optimizer, used, C);
        StepWith(optimizer, used, C);
        Assert.Equal([7.0], Values(unused));
        Assert.NotEqual(W0, Values(used));
    }

    [Fact]
    public void Clipping_by_norm_and_value_satisfies_both()
    {
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: 0.1, clipNorm: 1, clipValue: 0.5).Create([w]);
        StepWith(sgd, w, C);
        // Norm first: c / |c| = [0.218, -0.436, 0.873]; then value: the last element becomes 0.5.
        var norm = Math.Sqrt(C.Sum(x => x * x));
        AssertClose(Map(i => Math.Clamp(C[i] / norm, -0.5, 0.5)), Grad(w), 1e-6);
    }

    // ---- schedules ----

    private static double[] EpochRates(Schedule spec, double lr0, int epochs, int batchesPerEpoch = 1)
    {
        var schedule = spec.Create(lr0);
        var rates = new List<double>();
        for (var e = 0; e < epochs; e++)
        {
            rates.Add(schedule.CurrentLearningRate);
            for (var b = 0; b < batchesPerEpoch; b++) schedule.OnBatchEnd();
            schedule.OnEpochEnd();
        }
        return rates.ToArray();
    }

    [Fact]
    public void Constant_keeps_the_rate()
    {
        AssertClose([0.1, 0.1, 0.1], EpochRates(Schedule.Constant, 0.1, 3));
    }

    [Fact]
    public void Step_multiplies_by_gamma_every_n_epochs()
    {
        var rates = EpochRates(Schedule.Parse("stepDecay(every=2, gamma=0.5)"), 0.1, 7);
        AssertClose(Enumerable.Range(0, 7).Select(e => 0.1 * Math.Pow(0.5, e / 2)).ToArray(), rates, 1e-15);
        AssertClose([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], rates, 1e-15);
        // gamma defaults to 0.1, as PyTorch's StepLR.
        AssertClose([1, 1, 1, 0.1], EpochRates(Schedule.StepDecay(every: 3), 1, 4), 1e-15);
    }

    [Fact]
    public void Exponential_multiplies_by_gamma_every_epoch()
    {
        var rates = EpochRates(Schedule.Parse("exponential(gamma=0.9)"), 0.2, 5);
        AssertClose(Enumerable.Range(0, 5).Select(e => 0.2 * Math.Pow(0.9, e)).ToArray(), rates, 1e-15);
    }

    [Fact]
    public void Cosine_anneals_to_the_minimum_over_T_epochs_and_stays_there()
    {
        const double lr0 = 0.1, min = 0.001;
        var rates = EpochRates(Schedule.Parse("cosine(epochs=4, minLr=0.001)"), lr0, 7);
        AssertClose(Enumerable.Range(0, 7).Select(e => min + (lr0 - min) * (1 + Math.Cos(Math.PI * Math.Min(e, 4) / 4)) / 2).ToArray(), rates, 1e-15);
        Assert.Equal(lr0, rates[0]);
        Assert.Equal((lr0 + min) / 2, rates[2], 15);
        Assert.Equal(min, rates[4], 15);
        Assert.Equal(min, rates[6], 15);
    }

    [Fact]
    public void Warmup_in_epochs_rises_linearly_then_hands_over_to_the_main_schedule()
    {
        // warmupEpochs = 2 from 0.2: epochs 1, 2 use 0.2 and 0.6 of lr0; then the cosine starts from 0.
        var spec = Schedule.Parse("cosine(epochs=2, warmupEpochs=2, warmupStart=0.2)");
        var rates = EpochRates(spec, 1.0, 6, batchesPerEpoch: 3);
        AssertClose([0.2, 0.6, 1.0, 0.5, 0.0, 0.0], rates, 1e-15);
        // The warm-up alone.
        AssertClose([0.1, 0.4, 0.7, 1.0, 1.0], EpochRates(Schedule.Parse("warmup(epochs=3)"), 1.0, 5), 1e-15);
    }

    [Fact]
    public void Warmup_in_steps_multiplies_the_main_schedule_batch_by_batch()
    {
        var schedule = Schedule.Parse("stepDecay(every=1, gamma=0.5, warmupSteps=4, warmupStart=0)").Create(1.0);
        var rates = new List<double>();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            for (var batch = 0; batch < 3; batch++)
            {
                rates.Add(schedule.CurrentLearningRate);
                schedule.OnBatchEnd();
            }
            schedule.OnEpochEnd();
        }
        // Warm-up factors 0, 1/4, 2/4 | 3/4 (epoch 2 has rate 0.5), then 1: the step schedule counts
        // epochs from the start of training.
        AssertClose([0, 0.25, 0.5, 0.5 * 0.75, 0.5, 0.5, 0.25, 0.25, 0.25], rates.ToArray(), 1e-15);
        Assert.Equal(9, schedule.Steps);
        Assert.Equal(3, schedule.Epochs);
    }

    [Fact]
    public void A_schedule_sets_the_optimizers_learning_rate()
    {
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: 0.1).Create([w]);
        var schedule = Schedule.Parse("warmup(steps=2, start=0.5)").Create(sgd);
        Assert.Equal(0.05, sgd.LearningRate, 15);
        StepWith(sgd, w, C);
        schedule.OnBatchEnd();
        Assert.Equal(0.075, sgd.LearningRate, 15);
        StepWith(sgd, w, C);
        schedule.OnBatchEnd();
        Assert.Equal(0.1, sgd.LearningRate, 15);
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - (0.05 + 0.075 + 0.1) * C[i]), Values(w));
    }

    private static double[] PlateauRates(Schedule spec, params double[] values)
    {
        var schedule = spec.Create(1.0);
        return values.Select(v =>
        {
            schedule.OnEpochEnd(v);
            return schedule.CurrentLearningRate;
        }).ToArray();
    }

    [Fact]
    public void Plateau_reduces_after_more_than_patience_bad_epochs_then_cools_down()
    {
        var spec = Schedule.Parse("plateau(factor=0.5, patience=2, cooldown=1)");
        // Epoch 1 sets the best; 2, 3 and 4 are bad: after the third (more than 2) the rate halves and the
        // cooldown starts. Epoch 5 is bad but in cooldown, so counting starts again at epoch 6: 6, 7, 8 bad.
        var rates = PlateauRates(spec, 1, 1, 1, 1, 1, 1, 1, 1);
        AssertClose([1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25], rates);
        // Without cooldown the count restarts right away.
        AssertClose([1, 1, 1, 0.5, 0.5, 0.5, 0.25], PlateauRates(Schedule.Plateau(factor: 0.5, patience: 2), 1, 1, 1, 1, 1, 1, 1));
    }

    [Fact]
    public void Plateau_resets_its_count_on_an_improvement_larger_than_minDelta()
    {
        var spec = Schedule.Parse("plateau(factor=0.1, patience=1, minDelta=0.05)");
        // 0.9 improves on 1 by more than 0.05; 0.86 does not; 0.7 does; then two bad epochs reduce.
        AssertClose([1, 1, 1, 1, 1, 0.1], PlateauRates(spec, 1, 0.9, 0.86, 0.7, 0.7, 0.7));
    }

    [Fact]
    public void Plateau_stops_at_minLr_and_can_watch_for_a_rise()
    {
        var floor = Schedule.Parse("plateau(factor=0.1, patience=0, minLr=0.05)");
        AssertClose([1, 0.1, 0.05, 0.05], PlateauRates(floor, 1, 1, 1, 1));
        var accuracy = Schedule.Parse("plateau(factor=0.5, patience=0, mode=\"max\")");
        AssertClose([1, 1, 0.5, 0.5, 0.25], PlateauRates(accuracy, 0.5, 0.6, 0.6, 0.7, 0.1));
    }

    [Fact]
    public void Plateau_after_a_warmup_ignores_the_warmupEpochs()
    {
        var schedule = Schedule.Parse("plateau(factor=0.5, patience=0, warmupEpochs=2, warmupStart=0.5)").Create(1.0);
        Assert.Equal(0.5, schedule.CurrentLearningRate);
        schedule.OnEpochEnd(null);
        Assert.Equal(0.75, schedule.CurrentLearningRate);
        schedule.OnEpochEnd(5);
        Assert.Equal(1.0, schedule.CurrentLearningRate);
        schedule.OnEpochEnd(10); // the first watched value: the best, whatever it is
        Assert.Equal(1.0, schedule.CurrentLearningRate);
        schedule.OnEpochEnd(10);
        Assert.Equal(0.5, schedule.CurrentLearningRate);
    }

    [Fact]
    public void Plateau_needs_the_monitored_value()
    {
        var schedule = Schedule.Parse("plateau").Create(0.1);
        var error = Assert.Throws<InvalidOperationException>(() => schedule.OnEpochEnd(null));
        Assert.Equal("the plateau schedule needs the monitored value (e.g. the validation loss) at the end of every epoch", error.Message);
        Assert.Equal(0, schedule.Epochs);
    }

    [Theory]
    [InlineData("plateau(factor=0.5, patience=1, cooldown=2, warmupSteps=3)")]
    [InlineData("cosine(epochs=5, minLr=0.01, warmupEpochs=2)")]
    [InlineData("stepDecay(every=2, gamma=0.3, warmupSteps=5)")]
    public void A_restored_schedule_continues_exactly(string text)
    {
        var spec = Schedule.Parse(text);
        double[] values = [3, 2, 2.5, 2.5, 2.5, 2.4, 2.6, 1, 1, 1, 1, 1];
        var original = spec.Create(0.5);
        for (var e = 0; e < 5; e++)
        {
            original.OnBatchEnd();
            original.OnBatchEnd();
            original.OnEpochEnd(values[e]);
        }
        var state = original.GetState();
        var restored = spec.Create(0.5);
        restored.SetState(state with { });
        Assert.Equal(original.CurrentLearningRate, restored.CurrentLearningRate);
        for (var e = 5; e < values.Length; e++)
        {
            foreach (var schedule in new[] { original, restored })
            {
                schedule.OnBatchEnd();
                schedule.OnEpochEnd(values[e]);
            }
            Assert.Equal(original.CurrentLearningRate, restored.CurrentLearningRate);
            Assert.Equal(original.GetState(), restored.GetState());
        }
    }

    [Fact]
    public void A_schedule_state_of_another_kind_is_refused()
    {
        var plateau = Schedule.Parse("plateau").Create(0.1);
        var cosine = Schedule.Parse("cosine(epochs=3)").Create(0.1);
        Assert.Throws<ArgumentException>(() => cosine.SetState(plateau.GetState()));
        Assert.Throws<ArgumentException>(() => plateau.SetState(cosine.GetState()));
        Assert.Throws<ArgumentException>(() => cosine.SetState(new ScheduleState(-1, 0, null, null, 0, 0)));
    }

    // ---- optimizer state ----

    /// <summary>A loss whose gradient depends on w (2 c2 w + c), so the optimizer's state matters.</summary>
    private static void QuadraticStep(TrainingOptimizer optimizer, Parameter w)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        var c = tensor(C, dtype: w.dtype);
        var c2 = tensor(new[] { 0.3, 0.7, 0.1 }, dtype: w.dtype);
        var loss = (w * w * c2).sum() + (w * c).sum();
        var penalty = optimizer.Penalty();
        if (penalty is not null) loss += penalty;
        loss.backward();
        optimizer.Step();
    }

    [Theory]
    [InlineData("sgd(lr=0.1, momentum=0.9)", ScalarType.Float64)]
    [InlineData("sgd(lr=0.1, momentum=0.9)", ScalarType.Float32)]
    [InlineData("sgd(lr=0.1, momentum=0.8, nesterov=true, weightDecay=0.01, l1=0.01, clipNorm=1)", ScalarType.Float64)]
    [InlineData("rmsprop(lr=0.01, momentum=0.5, weightDecay=0.1)", ScalarType.Float64)]
    [InlineData("rmsprop(lr=0.01)", ScalarType.Float32)]
    [InlineData("adam(lr=0.01, weightDecay=0.1, clipValue=0.5)", ScalarType.Float64)]
    [InlineData("adam(lr=0.01)", ScalarType.Float32)]
    [InlineData("adamw(lr=0.01, beta1=0.8, beta2=0.9)", ScalarType.Float32)]
    public void A_restored_optimizer_continues_bit_for_bit(string text, ScalarType dtype)
    {
        var spec = Optimizer.Parse(text);
        using var w = NewWeights(dtype: dtype);
        using var original = spec.Create([w]);
        for (var i = 0; i < 3; i++) QuadraticStep(original, w);
        original.LearningRate *= 0.5; // as a schedule would
        var state = original.SaveState();
        var saved = Values(w);

        var expected = new List<double[]>();
        for (var i = 0; i < 4; i++)
        {
            QuadraticStep(original, w);
            expected.Add(Values(w));
        }

        using var w2 = NewWeights(saved, dtype);
        using var restored = spec.Create([w2]);
        restored.LoadState(state);
        Assert.Equal(original.LearningRate, restored.LearningRate);
        for (var i = 0; i < 4; i++)
        {
            QuadraticStep(restored, w2);
            Assert.Equal(expected[i], Values(w2));
        }

        // Without the state, the same weights and settings go elsewhere.
        using var w3 = NewWeights(saved, dtype);
        using var fresh = spec.Create([w3]);
        fresh.LearningRate = original.LearningRate;
        QuadraticStep(fresh, w3);
        Assert.NotEqual(expected[0], Values(w3));
    }

    [Fact]
    public void Saved_state_holds_the_moments_and_round_trips_through_a_stream()
    {
        using var w = NewWeights();
        using var adam = Optimizer.Adam(lr: 0.01).Create([w]);
        QuadraticStep(adam, w);
        using var stream = new MemoryStream();
        adam.SaveState(stream);
        Assert.Equal(adam.SaveState(), stream.ToArray());
        stream.Position = 0;
        using var w2 = NewWeights(Values(w));
        using var other = Optimizer.Adam(lr: 0.01).Create([w2]);
        other.LoadState(stream);
        Assert.Equal(adam.SaveState(), other.SaveState());
    }

    [Fact]
    public void State_of_another_optimizer_is_refused()
    {
        using var w = NewWeights();
        using var adam = Optimizer.Adam().Create([w]);
        using var sgd = Optimizer.Sgd().Create([w]);
        Assert.Throws<InvalidDataException>(() => sgd.LoadState(adam.SaveState()));
    }

    [Fact]
    public void An_optimizer_made_inside_a_dispose_scope_keeps_its_state()
    {
        using var w = NewWeights();
        TrainingOptimizer adam;
        using (var scope = NewDisposeScope())
            adam = Optimizer.Adam(lr: 0.01).Create([w]);
        using (adam)
        {
            StepWith(adam, w, C);
            AssertClose(AdamStep(W0, C, new double[3], new double[3], 1, 0.01, 0.9, 0.999, 1e-8), Values(w));
        }
    }

    /// <summary>
    /// Our update rules (Training/Optimization/*Update.cs) replace TorchSharp's optimizers, whose Scalars can be
    /// freed during a step (dotnet/TorchSharp#1496). They must still do what TorchSharp's (PyTorch's) do:
    /// the same weights after steps with changing gradients, a parameter the loss leaves out once (its gradient
    /// is zero then, not absent), and a
    /// learning rate changed halfway.
    /// </summary>
    [Theory]
    [InlineData("sgd(lr=0.1)")]
    [InlineData("sgd(lr=0.1, momentum=0.9, weightDecay=0.01)")]
    [InlineData("sgd(lr=0.05, momentum=0.8, nesterov=true)")]
    [InlineData("rmsprop(lr=0.01)")]
    [InlineData("rmsprop(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, weightDecay=0.1)")]
    [InlineData("adam(lr=0.01)")]
    [InlineData("adam(lr=0.01, beta1=0.8, beta2=0.95, eps=1e-6, weightDecay=0.1)")]
    [InlineData("adamw(lr=0.01)")]
    [InlineData("adamw(lr=0.01, beta1=0.85, beta2=0.99, weightDecay=0.2)")]
    public void Our_update_rules_take_the_steps_of_TorchSharps_optimizers(string text)
    {
        var spec = Optimizer.Parse(text);
        using var ours = new Parameter(tensor(new[] { 0.5, -1.5, 2.0, 0.25 }), requires_grad: true);
        using var theirs = new Parameter(tensor(new[] { 0.5, -1.5, 2.0, 0.25 }), requires_grad: true);
        using var ours2 = new Parameter(tensor(new[] { 1.0, -1.0 }), requires_grad: true);
        using var theirs2 = new Parameter(tensor(new[] { 1.0, -1.0 }), requires_grad: true);
        using var optimizer = spec.Create([ours, ours2]);
        var lr = spec.LearningRate;
        var decay = spec.WeightDecay;
        using optim.Optimizer reference = spec.Name switch
        {
            "sgd" => optim.SGD([theirs, theirs2], lr, spec.Momentum!.Value, 0, decay, spec.Nesterov),
            "rmsprop" => optim.RMSProp([theirs, theirs2], lr, spec.Alpha!.Value, spec.Eps!.Value, decay, spec.Momentum!.Value),
            "adam" => optim.Adam([theirs, theirs2], lr, spec.Beta1!.Value, spec.Beta2!.Value, spec.Eps!.Value, decay),
            _ => optim.AdamW([theirs, theirs2], lr, spec.Beta1!.Value, spec.Beta2!.Value, spec.Eps!.Value, decay),
        };
        for (var step = 1; step <= 8; step++)
        {
            if (step == 5)
            {
                optimizer.LearningRate = lr / 2;
                foreach (var group in reference.ParamGroups) group.LearningRate = lr / 2;
            }
            using var scope = NewDisposeScope();
            // A loss whose gradient changes with the weights and the step; the second parameter is left out on step 3.
            Tensor Loss(Parameter w, Parameter v) =>
                (w.pow(3) * step).sum() - (w * w.roll(1)).sum() + (step == 3 ? tensor(0.0) : (v * v * step).sum());
            optimizer.ZeroGrad();
            Loss(ours, ours2).backward();
            optimizer.Step();
            reference.zero_grad();
            Loss(theirs, theirs2).backward();
            reference.step();
            AssertClose(Values(theirs), Values(ours));
            AssertClose(Values(theirs2), Values(ours2));
        }
    }

    // ---- the settings: the language's rules, from C# and from text ----

    [Fact]
    public void The_builders_and_the_language_make_the_same_settings()
    {
        Assert.Equal(Optimizer.Adam(lr: 0.002, beta2: 0.99, weightDecay: 1e-4, clipNorm: 5),
            Optimizer.Parse("adam(lr=0.002, beta2=0.99, weightDecay=1e-4, clipNorm=5)"));
        Assert.Equal(Optimizer.Sgd(lr: 0.1, momentum: 0.9, nesterov: true), Optimizer.Parse("sgd (lr = 0.1, momentum = 0.9, nesterov = true)"));
        Assert.Equal(Optimizer.RmsProp(alpha: 0.9, eps: 1e-7, l1: 0.001), Optimizer.Parse("rmsprop(alpha=0.9, eps=1e-7, l1=0.001)"));
        Assert.Equal(Optimizer.AdamW(clipValue: 0.5), Optimizer.Parse("adamw(clipValue=0.5)"));
        // Defaults are settings like any other: PyTorch's.
        Assert.Equal(Optimizer.Sgd(lr: 0.01, momentum: 0), Optimizer.Parse("sgd"));
        Assert.Equal(Optimizer.AdamW(lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01), Optimizer.AdamW());
        Assert.NotEqual(Optimizer.Adam(), Optimizer.AdamW());
        Assert.Equal(Schedule.Cosine(epochs: 50, minLr: 1e-5, warmupSteps: 500), Schedule.Parse("cosine(epochs=50, minLr=1e-5, warmupSteps=500)"));
        Assert.Equal(Schedule.Plateau(factor: 0.5, patience: 3, minDelta: 0.01, cooldown: 2, minLr: 1e-6, mode: PlateauMode.Max),
            Schedule.Parse("plateau(factor=0.5, patience=3, minDelta=0.01, cooldown=2, minLr=1e-6, mode=\"max\")"));
        Assert.Equal(Schedule.Warmup(epochs: 3, start: 0.2), Schedule.Parse("warmup(epochs=3, start=0.2)"));
        Assert.Equal(Schedule.StepDecay(every: 10, gamma: 0.1), Schedule.Parse("stepDecay(every=10)"));
        Assert.Equal(Schedule.Exponential(gamma: 0.9, warmupEpochs: 2, warmupStart: 0.1), Schedule.Parse("exponential(gamma=0.9, warmupEpochs=2)"));
        // A warm-up of no length is none.
        Assert.Equal(Schedule.Cosine(epochs: 5), Schedule.Cosine(epochs: 5, warmupSteps: 0));
        Assert.Equal(["constant", "stepDecay", "exponential", "cosine", "plateau", "warmup"],
            new[] { Schedule.Constant, Schedule.StepDecay(every: 1), Schedule.Exponential(0.5), Schedule.Cosine(3), Schedule.Plateau(), Schedule.Warmup(steps: 5) }
                .Select(s => s.Name));
        Assert.Equal(["sgd", "rmsprop", "adam", "adamw"],
            new[] { Optimizer.Sgd(), Optimizer.RmsProp(), Optimizer.Adam(), Optimizer.AdamW() }.Select(o => o.Name));
    }

    [Fact]
    public void Settings_are_written_back_as_the_language_writes_them()
    {
        Assert.Equal("adamw (lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01)", Optimizer.AdamW().ToString());
        Assert.Equal("cosine (epochs = 20, minLr = 0, warmupEpochs = 1, warmupStart = 0.1)", Schedule.Cosine(20, warmupEpochs: 1).ToString());
        Optimizer[] optimizers =
        [
            Optimizer.Sgd(lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4, l1: 1e-5, clipNorm: 1, clipValue: 0.5),
            Optimizer.RmsProp(lr: 3e-4, alpha: 0.9, eps: 1e-6, momentum: 0.5), Optimizer.Adam(beta1: 0.8), Optimizer.AdamW(weightDecay: 0.05),
        ];
        foreach (var optimizer in optimizers) Assert.Equal(optimizer, Optimizer.Parse(optimizer.ToString()));
        Schedule[] schedules =
        [
            Schedule.StepDecay(every: 3, gamma: 0.5, warmupSteps: 100, warmupStart: 0), Schedule.Exponential(0.95), Schedule.Cosine(20, minLr: 1e-5),
            Schedule.Plateau(factor: 0.5, patience: 2, mode: PlateauMode.Max, warmupEpochs: 1), Schedule.Warmup(steps: 500, start: 0.2),
        ];
        foreach (var schedule in schedules) Assert.Equal(schedule, Schedule.Parse(schedule.ToString()));
    }

    [Theory]
    [InlineData("sgd(lr=0)", "lr", "sgd's lr must be positive, but it is 0")]
    [InlineData("sgd(lr=-0.5)", "lr", "sgd's lr must be positive, but it is -0.5")]
    [InlineData("adam(lr=1e300)", "lr", "adam's lr must be at most 3.4028235e38 (the largest float32), but it is 1e300")]
    [InlineData("adam(lr=1e400)", "lr", "adam's lr must be at most 3.4028235e38 (the largest float32), but it is infinity")]
    [InlineData("adam(lr=0.0/0.0)", "lr", "adam's lr must be positive, but it is nan")]
    [InlineData("sgd(nesterov=true)", "nesterov", "sgd's nesterov needs momentum above 0")]
    [InlineData("sgd(momentum=0, nesterov=true)", "nesterov", "sgd's nesterov needs momentum above 0")]
    [InlineData("sgd(momentum=1)", "momentum", "sgd's momentum must be in [0, 1), but it is 1")]
    [InlineData("rmsprop(momentum=-0.1)", "momentum", "rmsprop's momentum must be in [0, 1), but it is -0.1")]
    [InlineData("adam(beta2=1)", "beta2", "adam's beta2 must be in [0, 1), but it is 1")]
    [InlineData("adamw(beta1=-0.5)", "beta1", "adamw's beta1 must be in [0, 1), but it is -0.5")]
    [InlineData("adam(eps=0)", "eps", "adam's eps must be positive, but it is 0")]
    [InlineData("rmsprop(eps=-1)", "eps", "rmsprop's eps must be positive, but it is -1")]
    [InlineData("rmsprop(alpha=1.5)", "alpha", "rmsprop's alpha must be in [0, 1), but it is 1.5")]
    [InlineData("sgd(weightDecay=-0.1)", "weightDecay", "sgd's weightDecay must be 0 or more, but it is -0.1")]
    [InlineData("sgd(l1=-1)", "l1", "sgd's l1 must be 0 or more, but it is -1")]
    [InlineData("sgd(clipNorm=0)", "clipNorm", "sgd's clipNorm must be positive, but it is 0")]
    [InlineData("sgd(clipValue=-2)", "clipValue", "sgd's clipValue must be positive, but it is -2")]
    [InlineData("adam(lr=\"fast\")", "lr", "adam's lr must be a number, but it is \"fast\"")]
    [InlineData("adam(lr=relu)", "lr", "adam's lr must be a number, but it is the layer relu")]
    [InlineData("sgd(nesterov=1)", "nesterov", "sgd's nesterov must be true or false, but it is 1")]
    [InlineData("adam(momentum=0.9)", "momentum", "adam has no option 'momentum'; its options are lr, weightDecay, l1, clipNorm, clipValue, beta1, beta2, eps")]
    [InlineData("adamw(weight_decay=0.05)", "weight_decay", "adamw has no option 'weight_decay'; did you mean 'weightDecay'?")]
    [InlineData("sgd(clip_norm=1)", "clip_norm", "sgd has no option 'clip_norm'; did you mean 'clipNorm'?")]
    [InlineData("adam(lr=0.1, lr=0.2)", "lr=0.2", "the option 'lr' is given twice")]
    [InlineData("adamm", "adamm", "'adamm' is not defined; did you mean 'adam'?")]
    [InlineData("cosine(epochs=5)", "cosine", "optimizer must be sgd, rmsprop, adam or adamw, but it is the schedule cosine")]
    [InlineData("cosine", "cosine", "optimizer must be sgd, rmsprop, adam or adamw, but it is the schedule cosine")]
    [InlineData("adam 0.5", "adam", "the optimizer adam is not a function: it cannot be applied to arguments")]
    public void Bad_optimizers_are_refused_at_the_offending_option(string text, string at, string message)
    {
        var error = Assert.Throws<Functional.Networks.FnnCompileException>(() => Optimizer.Parse(text, "--optimizer"));
        Assert.StartsWith($"--optimizer:1:{text.IndexOf(at, StringComparison.Ordinal) + 1}: error: {message}", error.Message);
        Assert.Contains($"1 | {text}\n", error.Message);
        Assert.Single(error.Diagnostics);
    }

    [Theory]
    [InlineData("stepDecay", "stepDecay", "stepDecay needs every (the epochs between decays)")]
    [InlineData("stepDecay(every=0)", "every", "stepDecay's every must be positive, but it is 0")]
    [InlineData("stepDecay(every=2.5)", "every", "stepDecay's every must be an integer, but it is 2.5")]
    [InlineData("stepDecay(every=2.0)", "every", "stepDecay's every must be an integer, but it is 2.0")]
    [InlineData("stepDecay(every=2, gamma=0)", "gamma", "stepDecay's gamma must be in (0, 1], but it is 0")]
    [InlineData("stepDecay(every=2, gamma=1.5)", "gamma", "stepDecay's gamma must be in (0, 1], but it is 1.5")]
    [InlineData("exponential", "exponential", "exponential needs gamma (the factor per epoch)")]
    [InlineData("exponential(gamma=-0.9)", "gamma", "exponential's gamma must be in (0, 1], but it is -0.9")]
    [InlineData("cosine", "cosine", "cosine needs epochs (its length)")]
    [InlineData("cosine(epochs=-3)", "epochs", "cosine's epochs must be positive, but it is -3")]
    [InlineData("cosine(epochs=10, minLr=-1)", "minLr", "cosine's minLr must be 0 or more, but it is -1")]
    [InlineData("cosine(epochs=10, gamma=0.5)", "gamma", "cosine has no option 'gamma'; its options are epochs, minLr, warmupSteps, warmupEpochs, warmupStart")]
    [InlineData("cosine(epochs=10, min_lr=0.1)", "min_lr", "cosine has no option 'min_lr'; did you mean 'minLr'?")]
    [InlineData("plateau(factor=1)", "factor", "plateau's factor must be in (0, 1), but it is 1")]
    [InlineData("plateau(patience=-1)", "patience", "plateau's patience must be 0 or more, but it is -1")]
    [InlineData("plateau(cooldown=-1)", "cooldown", "plateau's cooldown must be 0 or more, but it is -1")]
    [InlineData("plateau(minDelta=-0.1)", "minDelta", "plateau's minDelta must be 0 or more, but it is -0.1")]
    [InlineData("plateau(minLr=-0.1)", "minLr", "plateau's minLr must be 0 or more, but it is -0.1")]
    [InlineData("plateau(mode=\"up\")", "mode", "plateau's mode must be \"min\" or \"max\", but it is \"up\"")]
    [InlineData("plateau(mode=1)", "mode", "plateau's mode must be a string, but it is 1")]
    [InlineData("cosine(epochs=10, warmupSteps=5, warmupEpochs=1)", "warmupEpochs", "cosine's warmupEpochs cannot be given with warmupSteps")]
    [InlineData("stepDecay(every=1, warmupEpochs=-1)", "warmupEpochs", "stepDecay's warmupEpochs must be 0 or more, but it is -1")]
    [InlineData("stepDecay(every=2, warmupStart=0.5)", "warmupStart", "stepDecay's warmupStart needs warmupSteps or warmupEpochs")]
    [InlineData("cosine(epochs=2, warmupEpochs=1, warmupStart=1.5)", "warmupStart", "cosine's warmupStart must be in [0, 1], but it is 1.5")]
    [InlineData("cosine(epochs=2, warmup_epochs=1)", "warmup_epochs", "cosine has no option 'warmup_epochs'; did you mean 'warmupEpochs'?")]
    [InlineData("warmup", "warmup", "warmup needs its length: steps or epochs")]
    [InlineData("warmup(steps=0)", "steps", "warmup's steps must be positive, but it is 0")]
    [InlineData("warmup(steps=5, epochs=1)", "epochs", "warmup's epochs cannot be given with steps")]
    [InlineData("warmup(steps=10, start=1.5)", "start", "warmup's start must be in [0, 1], but it is 1.5")]
    [InlineData("adam", "adam", "schedule must be stepDecay, exponential, cosine, plateau or warmup, but it is the optimizer adam")]
    public void Bad_schedules_are_refused_at_the_offending_option(string text, string at, string message)
    {
        var error = Assert.Throws<Functional.Networks.FnnCompileException>(() => Schedule.Parse(text, "--schedule"));
        Assert.StartsWith($"--schedule:1:{text.IndexOf(at, StringComparison.Ordinal) + 1}: error: {message}", error.Message);
        Assert.Single(error.Diagnostics);
    }

    [Fact]
    public void The_builders_refuse_a_setting_out_of_its_range_naming_it()
    {
        void Refused(Func<object> make, string option, string message)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(make);
            Assert.Equal(option, error.ParamName);
            Assert.Equal($"{message} (Parameter '{option}')", error.Message);
        }
        Refused(() => Optimizer.Sgd(lr: 0), "lr", "sgd's lr must be positive, but it is 0");
        Refused(() => Optimizer.Adam(lr: double.NaN), "lr", "adam's lr must be positive, but it is nan");
        Refused(() => Optimizer.AdamW(lr: double.PositiveInfinity), "lr", "adamw's lr must be at most 3.4028235e38 (the largest float32), but it is infinity");
        Refused(() => Optimizer.Sgd(momentum: 1), "momentum", "sgd's momentum must be in [0, 1), but it is 1");
        Refused(() => Optimizer.Sgd(nesterov: true), "nesterov", "sgd's nesterov needs momentum above 0");
        Refused(() => Optimizer.RmsProp(alpha: -0.1), "alpha", "rmsprop's alpha must be in [0, 1), but it is -0.1");
        Refused(() => Optimizer.Adam(eps: 0), "eps", "adam's eps must be positive, but it is 0");
        Refused(() => Optimizer.Adam(beta1: 1), "beta1", "adam's beta1 must be in [0, 1), but it is 1");
        Refused(() => Optimizer.AdamW(beta2: -1), "beta2", "adamw's beta2 must be in [0, 1), but it is -1");
        Refused(() => Optimizer.AdamW(weightDecay: -0.01), "weightDecay", "adamw's weightDecay must be 0 or more, but it is -0.01");
        Refused(() => Optimizer.Sgd(l1: -1), "l1", "sgd's l1 must be 0 or more, but it is -1");
        Refused(() => Optimizer.Sgd(clipNorm: 0), "clipNorm", "sgd's clipNorm must be positive, but it is 0");
        Refused(() => Optimizer.Sgd(clipValue: -1), "clipValue", "sgd's clipValue must be positive, but it is -1");
        Refused(() => Optimizer.Sgd().WithLearningRate(1e300), "lr", "sgd's lr must be at most 3.4028235e38 (the largest float32), but it is 1e300");
        Refused(() => Optimizer.Adam().WithLearningRate(-1), "lr", "adam's lr must be positive, but it is -1");
        Refused(() => Schedule.StepDecay(every: 0), "every", "stepDecay's every must be positive, but it is 0");
        Refused(() => Schedule.StepDecay(every: 1, gamma: 2), "gamma", "stepDecay's gamma must be in (0, 1], but it is 2");
        Refused(() => Schedule.Exponential(0), "gamma", "exponential's gamma must be in (0, 1], but it is 0");
        Refused(() => Schedule.Cosine(epochs: 0), "epochs", "cosine's epochs must be positive, but it is 0");
        Refused(() => Schedule.Cosine(epochs: 5, minLr: -1), "minLr", "cosine's minLr must be 0 or more, but it is -1");
        Refused(() => Schedule.Cosine(epochs: 5, warmupSteps: 1, warmupEpochs: 1), "warmupEpochs", "cosine's warmupEpochs cannot be given with warmupSteps: the warm-up is counted in one or the other");
        Refused(() => Schedule.Cosine(epochs: 5, warmupStart: 0.5), "warmupStart", "cosine's warmupStart needs warmupSteps or warmupEpochs");
        Refused(() => Schedule.Plateau(factor: 1), "factor", "plateau's factor must be in (0, 1), but it is 1");
        Refused(() => Schedule.Plateau(patience: -1), "patience", "plateau's patience must be 0 or more, but it is -1");
        Refused(() => Schedule.Plateau(cooldown: -2), "cooldown", "plateau's cooldown must be 0 or more, but it is -2");
        Refused(() => Schedule.Plateau(minDelta: -0.5), "minDelta", "plateau's minDelta must be 0 or more, but it is -0.5");
        Refused(() => Schedule.Warmup(steps: -1), "steps", "warmup's steps must be positive, but it is -1");
        Refused(() => Schedule.Warmup(epochs: 2, start: 2), "start", "warmup's start must be in [0, 1], but it is 2");
        Assert.Equal("warmup needs its length: steps or epochs", Assert.Throws<ArgumentException>(() => Schedule.Warmup()).Message);
    }

    [Fact]
    public void A_schedule_must_suit_the_rate_it_starts_from_and_an_optimizer_needs_parameters()
    {
        void Refused(Action action, string message) =>
            Assert.Equal(message, Assert.Throws<ArgumentException>(action).Message);
        Refused(() => Schedule.Cosine(epochs: 10, minLr: 0.1).Create(0.01), "cosine's minLr (0.1) is above the learning rate (0.01)");
        Refused(() => Schedule.Constant.Create(0), "the learning rate must be positive, but it is 0");
        Refused(() => Optimizer.Sgd().Create([]), "there are no parameters to optimize (Parameter 'parameters')");
        using var w = NewWeights();
        using var sgd = Optimizer.Sgd(lr: 0.001).Create([w]);
        Refused(() => Schedule.Cosine(epochs: 10, minLr: 0.01).Create(sgd), "cosine's minLr (0.01) is above the learning rate (0.001)");
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1);
    }
}
