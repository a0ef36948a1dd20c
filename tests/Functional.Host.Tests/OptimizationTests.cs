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
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 0.1 }.Create([w]);
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
        using var sgd = new OptimizerSpec("sgd") { LearningRate = lr, Momentum = mu }.Create([w]);
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
        using var sgd = new OptimizerSpec("sgd") { LearningRate = lr, Momentum = mu, Nesterov = true }.Create([w]);
        // Step 1: buffer = c, update c + mu c. Step 2: buffer = (1 + mu) c, update c + mu (1 + mu) c.
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - lr * (1 + mu) * C[i]), Values(w));
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - lr * (1 + mu) * C[i] - lr * (1 + mu + mu * mu) * C[i]), Values(w));
    }

    [Fact]
    public void Sgd_weight_decay_adds_decay_times_w_to_the_gradient()
    {
        const double lr = 0.1, decay = 0.5;
        using var w = NewWeights();
        using var sgd = new OptimizerSpec("sgd") { LearningRate = lr, WeightDecay = decay }.Create([w]);
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
        using var rms = new OptimizerSpec("rmsprop") { LearningRate = lr, Alpha = alpha, Eps = eps }.Create([w]);
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
        using var rms = new OptimizerSpec("rmsprop") { LearningRate = lr, Momentum = mu }.Create([w]);
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
        using var adam = new OptimizerSpec("adam") { LearningRate = lr }.Create([w]);
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
        using var adam = OptimizerSpec.Parse("adam(lr=0.05, betas=0.5/0.75, eps=0.1)").Create([w]);
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
        using var adam = new OptimizerSpec("adam") { LearningRate = lr, WeightDecay = decay }.Create([wAdam]);
        using var adamW = new OptimizerSpec("adamw") { LearningRate = lr, WeightDecay = decay }.Create([wAdamW]);
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
        using var adam1 = new OptimizerSpec("adam") { LearningRate = lr, WeightDecay = decay }.Create([w0]);
        StepWith(adam1, w0, C);
        AssertClose([0.9, -1.9, 2.9], Values(w0), 1e-6);
        using var w0W = NewWeights();
        using var adamW1 = new OptimizerSpec("adamw") { LearningRate = lr, WeightDecay = decay }.Create([w0W]);
        StepWith(adamW1, w0W, C);
        AssertClose([0.85, -1.8, 2.75], Values(w0W), 1e-6);
    }

    [Fact]
    public void AdamW_defaults_to_PyTorchs_weight_decay_of_0_01()
    {
        const double lr = 0.01;
        var spec = new OptimizerSpec("adamw") { LearningRate = lr };
        Assert.Equal(0.01, spec.EffectiveWeightDecay);
        Assert.Equal(0.0, new OptimizerSpec("adam").EffectiveWeightDecay);
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
        Assert.Equal(expected, new OptimizerSpec(name).EffectiveLearningRate);
        using var w = NewWeights();
        using var optimizer = new OptimizerSpec(name).Create([w]);
        Assert.Equal(expected, optimizer.LearningRate);
    }

    // ---- L1 penalty ----

    [Fact]
    public void L1_penalty_is_lambda_times_the_sum_of_absolute_weights_and_its_gradient_is_lambda_sign_w()
    {
        const double lambda = 0.25;
        using var w = NewWeights();
        using var other = NewWeights([-4.0]);
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 0.1, L1 = lambda }.Create([w, other]);
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
        using var sgd = new OptimizerSpec("sgd").Create([w]);
        Assert.Null(sgd.Penalty());
    }

    // ---- clipping ----

    [Fact]
    public void Clipping_by_norm_rescales_all_gradients_together_to_the_maximum_norm()
    {
        using var a = NewWeights([1.0]);
        using var b = NewWeights([1.0]);
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 1, ClipNorm = 1 }.Create([a, b]);
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
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 1, ClipNorm = 1 }.Create([a, b]);
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
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 0.1, ClipNorm = 100 }.Create([w]);
        StepWith(sgd, w, C);
        AssertClose(Map(i => W0[i] - 0.1 * C[i]), Values(w));
    }

    [Fact]
    public void Clipping_by_value_clamps_each_element()
    {
        using var w = NewWeights();
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 0.1, ClipValue = 0.75 }.Create([w]);
        Assert.Null(sgd.ClipGradients());
        StepWith(sgd, w, C);
        AssertClose([0.5, -0.75, 0.75], Grad(w));
        AssertClose(Map(i => W0[i] - 0.1 * Math.Clamp(C[i], -0.75, 0.75)), Values(w));
    }

    [Theory]
    [InlineData("sgd(lr=0.1, momentum=0.9, clip_norm=1, clip_value=0.5)")]
    [InlineData("adam(lr=0.1, clip_norm=1)")]
    [InlineData("adamw(lr=0.1, clip_value=1)")]
    [InlineData("rmsprop(lr=0.1, clip_norm=1)")]
    public void A_parameter_the_loss_does_not_use_is_left_alone(string text)
    {
        using var used = NewWeights();
        using var unused = NewWeights([7.0]);
        using var optimizer = OptimizerSpec.Parse(text).Create([used, unused]);
        StepWith(optimizer, used, C);
        StepWith(optimizer, used, C);
        Assert.Equal([7.0], Values(unused));
        Assert.NotEqual(W0, Values(used));
    }

    [Fact]
    public void Clipping_by_norm_and_value_satisfies_both()
    {
        using var w = NewWeights();
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 0.1, ClipNorm = 1, ClipValue = 0.5 }.Create([w]);
        StepWith(sgd, w, C);
        // Norm first: c / |c| = [0.218, -0.436, 0.873]; then value: the last element becomes 0.5.
        var norm = Math.Sqrt(C.Sum(x => x * x));
        AssertClose(Map(i => Math.Clamp(C[i] / norm, -0.5, 0.5)), Grad(w), 1e-6);
    }

    // ---- schedules ----

    private static double[] EpochRates(ScheduleSpec spec, double lr0, int epochs, int batchesPerEpoch = 1)
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
        AssertClose([0.1, 0.1, 0.1], EpochRates(ScheduleSpec.None, 0.1, 3));
    }

    [Fact]
    public void Step_multiplies_by_gamma_every_n_epochs()
    {
        var rates = EpochRates(ScheduleSpec.Parse("step(every=2, gamma=0.5)"), 0.1, 7);
        AssertClose(Enumerable.Range(0, 7).Select(e => 0.1 * Math.Pow(0.5, e / 2)).ToArray(), rates, 1e-15);
        AssertClose([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], rates, 1e-15);
        // gamma defaults to 0.1, as PyTorch's StepLR.
        AssertClose([1, 1, 1, 0.1], EpochRates(new ScheduleSpec("step") { Every = 3 }, 1, 4), 1e-15);
    }

    [Fact]
    public void Exponential_multiplies_by_gamma_every_epoch()
    {
        var rates = EpochRates(ScheduleSpec.Parse("exponential(gamma=0.9)"), 0.2, 5);
        AssertClose(Enumerable.Range(0, 5).Select(e => 0.2 * Math.Pow(0.9, e)).ToArray(), rates, 1e-15);
    }

    [Fact]
    public void Cosine_anneals_to_the_minimum_over_T_epochs_and_stays_there()
    {
        const double lr0 = 0.1, min = 0.001;
        var rates = EpochRates(ScheduleSpec.Parse("cosine(epochs=4, min_lr=0.001)"), lr0, 7);
        AssertClose(Enumerable.Range(0, 7).Select(e => min + (lr0 - min) * (1 + Math.Cos(Math.PI * Math.Min(e, 4) / 4)) / 2).ToArray(), rates, 1e-15);
        Assert.Equal(lr0, rates[0]);
        Assert.Equal((lr0 + min) / 2, rates[2], 15);
        Assert.Equal(min, rates[4], 15);
        Assert.Equal(min, rates[6], 15);
    }

    [Fact]
    public void Warmup_in_epochs_rises_linearly_then_hands_over_to_the_main_schedule()
    {
        // warmup_epochs = 2 from 0.2: epochs 1, 2 use 0.2 and 0.6 of lr0; then the cosine starts from 0.
        var spec = ScheduleSpec.Parse("cosine(epochs=2, warmup_epochs=2, warmup_start=0.2)");
        var rates = EpochRates(spec, 1.0, 6, batchesPerEpoch: 3);
        AssertClose([0.2, 0.6, 1.0, 0.5, 0.0, 0.0], rates, 1e-15);
        // The warm-up alone.
        AssertClose([0.1, 0.4, 0.7, 1.0, 1.0], EpochRates(ScheduleSpec.Parse("warmup(epochs=3)"), 1.0, 5), 1e-15);
    }

    [Fact]
    public void Warmup_in_steps_multiplies_the_main_schedule_batch_by_batch()
    {
        var schedule = ScheduleSpec.Parse("step(every=1, gamma=0.5, warmup_steps=4, warmup_start=0)").Create(1.0);
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
        using var sgd = new OptimizerSpec("sgd") { LearningRate = 0.1 }.Create([w]);
        var schedule = ScheduleSpec.Parse("warmup(steps=2, start=0.5)").Create(sgd);
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

    private static double[] PlateauRates(ScheduleSpec spec, params double[] values)
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
        var spec = ScheduleSpec.Parse("plateau(factor=0.5, patience=2, cooldown=1)");
        // Epoch 1 sets the best; 2, 3 and 4 are bad: after the third (more than 2) the rate halves and the
        // cooldown starts. Epoch 5 is bad but in cooldown, so counting starts again at epoch 6: 6, 7, 8 bad.
        var rates = PlateauRates(spec, 1, 1, 1, 1, 1, 1, 1, 1);
        AssertClose([1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25], rates);
        // Without cooldown the count restarts right away.
        AssertClose([1, 1, 1, 0.5, 0.5, 0.5, 0.25], PlateauRates(spec with { Cooldown = 0 }, 1, 1, 1, 1, 1, 1, 1));
    }

    [Fact]
    public void Plateau_resets_its_count_on_an_improvement_larger_than_min_delta()
    {
        var spec = ScheduleSpec.Parse("plateau(factor=0.1, patience=1, min_delta=0.05)");
        // 0.9 improves on 1 by more than 0.05; 0.86 does not; 0.7 does; then two bad epochs reduce.
        AssertClose([1, 1, 1, 1, 1, 0.1], PlateauRates(spec, 1, 0.9, 0.86, 0.7, 0.7, 0.7));
    }

    [Fact]
    public void Plateau_stops_at_min_lr_and_can_watch_for_a_rise()
    {
        var floor = ScheduleSpec.Parse("plateau(factor=0.1, patience=0, min_lr=0.05)");
        AssertClose([1, 0.1, 0.05, 0.05], PlateauRates(floor, 1, 1, 1, 1));
        var accuracy = ScheduleSpec.Parse("plateau(factor=0.5, patience=0, mode=max)");
        AssertClose([1, 1, 0.5, 0.5, 0.25], PlateauRates(accuracy, 0.5, 0.6, 0.6, 0.7, 0.1));
    }

    [Fact]
    public void Plateau_after_a_warmup_ignores_the_warmup_epochs()
    {
        var schedule = ScheduleSpec.Parse("plateau(factor=0.5, patience=0, warmup_epochs=2, warmup_start=0.5)").Create(1.0);
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
        var schedule = ScheduleSpec.Parse("plateau").Create(0.1);
        var error = Assert.Throws<InvalidOperationException>(() => schedule.OnEpochEnd(null));
        Assert.Equal("the plateau schedule needs the monitored value (e.g. the validation loss) at the end of every epoch", error.Message);
        Assert.Equal(0, schedule.Epochs);
    }

    [Theory]
    [InlineData("plateau(factor=0.5, patience=1, cooldown=2, warmup_steps=3)")]
    [InlineData("cosine(epochs=5, min_lr=0.01, warmup_epochs=2)")]
    [InlineData("step(every=2, gamma=0.3, warmup_steps=5)")]
    public void A_restored_schedule_continues_exactly(string text)
    {
        var spec = ScheduleSpec.Parse(text);
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
        var plateau = ScheduleSpec.Parse("plateau").Create(0.1);
        var cosine = ScheduleSpec.Parse("cosine(epochs=3)").Create(0.1);
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
    [InlineData("sgd(lr=0.1, momentum=0.8, nesterov=true, weight_decay=0.01, l1=0.01, clip_norm=1)", ScalarType.Float64)]
    [InlineData("rmsprop(lr=0.01, momentum=0.5, weight_decay=0.1)", ScalarType.Float64)]
    [InlineData("rmsprop(lr=0.01)", ScalarType.Float32)]
    [InlineData("adam(lr=0.01, weight_decay=0.1, clip_value=0.5)", ScalarType.Float64)]
    [InlineData("adam(lr=0.01)", ScalarType.Float32)]
    [InlineData("adamw(lr=0.01, betas=0.8/0.9)", ScalarType.Float32)]
    public void A_restored_optimizer_continues_bit_for_bit(string text, ScalarType dtype)
    {
        var spec = OptimizerSpec.Parse(text);
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
        using var adam = new OptimizerSpec("adam") { LearningRate = 0.01 }.Create([w]);
        QuadraticStep(adam, w);
        using var stream = new MemoryStream();
        adam.SaveState(stream);
        Assert.Equal(adam.SaveState(), stream.ToArray());
        stream.Position = 0;
        using var w2 = NewWeights(Values(w));
        using var other = new OptimizerSpec("adam") { LearningRate = 0.01 }.Create([w2]);
        other.LoadState(stream);
        Assert.Equal(adam.SaveState(), other.SaveState());
    }

    [Fact]
    public void State_of_another_optimizer_is_refused()
    {
        using var w = NewWeights();
        using var adam = new OptimizerSpec("adam").Create([w]);
        using var sgd = new OptimizerSpec("sgd").Create([w]);
        Assert.Throws<InvalidDataException>(() => sgd.LoadState(adam.SaveState()));
    }

    [Fact]
    public void An_optimizer_made_inside_a_dispose_scope_keeps_its_state()
    {
        using var w = NewWeights();
        TrainingOptimizer adam;
        using (var scope = NewDisposeScope())
            adam = new OptimizerSpec("adam") { LearningRate = 0.01 }.Create([w]);
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
    [InlineData("sgd(lr=0.1, momentum=0.9, weight_decay=0.01)")]
    [InlineData("sgd(lr=0.05, momentum=0.8, nesterov=true)")]
    [InlineData("rmsprop(lr=0.01)")]
    [InlineData("rmsprop(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, weight_decay=0.1)")]
    [InlineData("adam(lr=0.01)")]
    [InlineData("adam(lr=0.01, betas=0.8/0.95, eps=1e-6, weight_decay=0.1)")]
    [InlineData("adamw(lr=0.01)")]
    [InlineData("adamw(lr=0.01, betas=0.85/0.99, weight_decay=0.2)")]
    public void Our_update_rules_take_the_steps_of_TorchSharps_optimizers(string text)
    {
        var spec = OptimizerSpec.Parse(text);
        using var ours = new Parameter(tensor(new[] { 0.5, -1.5, 2.0, 0.25 }), requires_grad: true);
        using var theirs = new Parameter(tensor(new[] { 0.5, -1.5, 2.0, 0.25 }), requires_grad: true);
        using var ours2 = new Parameter(tensor(new[] { 1.0, -1.0 }), requires_grad: true);
        using var theirs2 = new Parameter(tensor(new[] { 1.0, -1.0 }), requires_grad: true);
        using var optimizer = spec.Create([ours, ours2]);
        var (beta1, beta2) = spec.Betas ?? (0.9, 0.999);
        var lr = spec.EffectiveLearningRate;
        var decay = spec.EffectiveWeightDecay;
        using optim.Optimizer reference = spec.Name switch
        {
            "sgd" => optim.SGD([theirs, theirs2], lr, spec.Momentum ?? 0, 0, decay, spec.Nesterov),
            "rmsprop" => optim.RMSProp([theirs, theirs2], lr, spec.Alpha ?? 0.99, spec.Eps ?? 1e-8, decay, spec.Momentum ?? 0),
            "adam" => optim.Adam([theirs, theirs2], lr, beta1, beta2, spec.Eps ?? 1e-8, decay),
            _ => optim.AdamW([theirs, theirs2], lr, beta1, beta2, spec.Eps ?? 1e-8, decay),
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

    // ---- parsing and validation ----

    [Fact]
    public void Parse_reads_names_options_and_aliases()
    {
        var adam = OptimizerSpec.Parse("Adam", new Dictionary<string, string>
        {
            ["learning-rate"] = "0.002", ["beta2"] = "0.99", ["Weight_Decay"] = "1e-4", ["clip-norm"] = "5",
        });
        Assert.Equal(new OptimizerSpec("adam") { LearningRate = 0.002, Betas = (0.9, 0.99), WeightDecay = 1e-4, ClipNorm = 5 }, adam);
        Assert.Equal(new OptimizerSpec("sgd") { LearningRate = 0.1, Momentum = 0.9, Nesterov = true },
            OptimizerSpec.Parse("sgd(lr=0.1, momentum=0.9, nesterov=true)"));
        Assert.Equal(new OptimizerSpec("rmsprop") { Alpha = 0.9, Eps = 1e-7, L1 = 0.001 },
            OptimizerSpec.Parse("rmsprop(rho=0.9, epsilon=1e-7, l1=0.001)"));
        Assert.Equal(new OptimizerSpec("sgd"), OptimizerSpec.Parse("sgd"));
        Assert.Equal(new ScheduleSpec("cosine") { Epochs = 50, MinLearningRate = 1e-5, WarmupSteps = 500 },
            ScheduleSpec.Parse("cosine", new Dictionary<string, string> { ["t_max"] = "50", ["eta_min"] = "1e-5", ["warmup-steps"] = "500" }));
        Assert.Equal(new ScheduleSpec("plateau") { Factor = 0.5, Patience = 3, MinDelta = 0.01, Cooldown = 2, MinLearningRate = 1e-6, Mode = PlateauMode.Max },
            ScheduleSpec.Parse("reduce_on_plateau(factor=0.5, patience=3, min_delta=0.01, cooldown=2, min_lr=1e-6, mode=max)"));
        Assert.Equal(new ScheduleSpec("warmup") { WarmupEpochs = 3, WarmupStartFactor = 0.2 }, ScheduleSpec.Parse("warmup(epochs=3, start=0.2)"));
        Assert.Equal(ScheduleSpec.None, ScheduleSpec.Parse("none"));
    }

    [Theory]
    [InlineData("foo", "unknown optimizer 'foo': expected one of sgd, rmsprop, adam, adamw")]
    [InlineData("sgd(lr=0)", "the learning rate must be positive, but it is 0")]
    [InlineData("sgd(lr=-0.5)", "the learning rate must be positive, but it is -0.5")]
    [InlineData("adam(lr=NaN)", "the learning rate must be positive, but it is NaN")]
    [InlineData("adam(lr=Infinity)", "the learning rate must be finite, but it is Infinity")]
    [InlineData("sgd(nesterov=true)", "nesterov needs momentum > 0")]
    [InlineData("sgd(momentum=0, nesterov=true)", "nesterov needs momentum > 0")]
    [InlineData("sgd(momentum=1)", "the momentum must be in [0, 1), but it is 1")]
    [InlineData("rmsprop(momentum=-0.1)", "the momentum must be in [0, 1), but it is -0.1")]
    [InlineData("adam(betas=0.9/1)", "each beta must be in [0, 1), but the betas are 0.9/1")]
    [InlineData("adamw(beta1=-0.5)", "each beta must be in [0, 1), but the betas are -0.5/0.999")]
    [InlineData("adam(eps=-1)", "eps must not be negative, but it is -1")]
    [InlineData("rmsprop(alpha=1.5)", "alpha must be in [0, 1), but it is 1.5")]
    [InlineData("sgd(weight_decay=-0.1)", "the weight decay must not be negative, but it is -0.1")]
    [InlineData("sgd(l1=-1)", "the L1 penalty must not be negative, but it is -1")]
    [InlineData("sgd(clip_norm=0)", "clip_norm must be positive, but it is 0")]
    [InlineData("sgd(clip_value=-2)", "clip_value must be positive, but it is -2")]
    [InlineData("sgd(betas=0.9/0.999)", "unknown option 'betas' for sgd: valid options are lr, momentum, nesterov, weight_decay, l1, clip_norm, clip_value")]
    [InlineData("adam(momentum=0.9)", "unknown option 'momentum' for adam: valid options are lr, betas, beta1, beta2, eps, weight_decay, l1, clip_norm, clip_value")]
    [InlineData("adam(lr=fast)", "option 'lr' of adam: 'fast' is not a number")]
    [InlineData("adam(betas=0.9)", "option 'betas' of adam: '0.9' is not two numbers written a/b")]
    [InlineData("sgd(nesterov=maybe)", "option 'nesterov' of sgd: 'maybe' is not true or false")]
    [InlineData("adam(betas=0.9/0.99, beta1=0.8)", "give adam betas or beta1/beta2, not both")]
    [InlineData("adam(lr=0.1, learning_rate=0.2)", "option 'lr' of adam is given twice")]
    [InlineData("adam(lr 0.1)", "'lr 0.1' in 'adam(lr 0.1)' is not option=value")]
    [InlineData("adam(lr=0.1", "'adam(lr=0.1' is not an optimizer: expected name(option=value, ...)")]
    public void Bad_optimizer_settings_are_refused_with_a_clear_message(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => OptimizerSpec.Parse(text));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Settings_that_do_not_apply_to_the_optimizer_are_refused()
    {
        void Refused(OptimizerSpec spec, string message) =>
            Assert.Equal(message, Assert.Throws<ArgumentException>(spec.Validate).Message);
        Refused(new OptimizerSpec("adam") { Momentum = 0.9 }, "momentum applies to sgd and rmsprop, not adam (which uses betas)");
        Refused(new OptimizerSpec("rmsprop") { Momentum = 0.5, Nesterov = true }, "nesterov applies to sgd only, not rmsprop");
        Refused(new OptimizerSpec("sgd") { Betas = (0.9, 0.999) }, "betas apply to adam and adamw, not sgd");
        Refused(new OptimizerSpec("sgd") { Eps = 1e-8 }, "eps applies to rmsprop, adam and adamw, not sgd");
        Refused(new OptimizerSpec("adam") { Alpha = 0.9 }, "alpha applies to rmsprop only, not adam");
        Refused(new OptimizerSpec("Adam"), "unknown optimizer 'Adam': expected one of sgd, rmsprop, adam, adamw");
        // Create validates too, and needs something to optimize.
        Assert.Equal("the learning rate must be positive, but it is 0",
            Assert.Throws<ArgumentException>(() => new OptimizerSpec("sgd") { LearningRate = 0 }.Create([])).Message);
        Assert.Equal("there are no parameters to optimize (Parameter 'parameters')",
            Assert.Throws<ArgumentException>(() => new OptimizerSpec("sgd").Create([])).Message);
        using var w = NewWeights();
        using var sgd = new OptimizerSpec("sgd").Create([w]);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1);
    }

    [Theory]
    [InlineData("linear", "unknown schedule 'linear': expected one of constant, step, exponential, cosine, plateau, warmup")]
    [InlineData("step", "the step schedule needs every (the epochs between decays)")]
    [InlineData("step(every=0)", "every must be positive, but it is 0")]
    [InlineData("step(every=2, gamma=0)", "gamma must be a positive number, but it is 0")]
    [InlineData("step(every=two)", "option 'every' of step: 'two' is not a whole number")]
    [InlineData("exponential", "the exponential schedule needs gamma (the factor per epoch)")]
    [InlineData("exponential(gamma=-0.9)", "gamma must be a positive number, but it is -0.9")]
    [InlineData("cosine", "the cosine schedule needs epochs (its length)")]
    [InlineData("cosine(epochs=-3)", "epochs must be positive, but it is -3")]
    [InlineData("cosine(epochs=10, min_lr=-1)", "min_lr must be a finite number >= 0, but it is -1")]
    [InlineData("cosine(epochs=10, gamma=0.5)", "unknown option 'gamma' for cosine: valid options are epochs, min_lr, warmup_steps, warmup_epochs, warmup_start")]
    [InlineData("plateau(factor=1)", "factor must be in (0, 1), but it is 1")]
    [InlineData("plateau(patience=-1)", "patience must not be negative, but it is -1")]
    [InlineData("plateau(cooldown=-1)", "cooldown must not be negative, but it is -1")]
    [InlineData("plateau(min_delta=-0.1)", "min_delta must be a finite number >= 0, but it is -0.1")]
    [InlineData("plateau(min_lr=-0.1)", "min_lr must be a finite number >= 0, but it is -0.1")]
    [InlineData("plateau(mode=up)", "option 'mode' of plateau: 'up' is not min or max")]
    [InlineData("cosine(epochs=10, warmup_steps=5, warmup_epochs=1)", "give warmup_steps or warmup_epochs, not both")]
    [InlineData("warmup", "the warmup schedule needs warmup_steps or warmup_epochs")]
    [InlineData("warmup(steps=-1)", "warmup_steps must not be negative, but it is -1")]
    [InlineData("step(every=1, warmup_epochs=-1)", "warmup_epochs must not be negative, but it is -1")]
    [InlineData("warmup(steps=10, start=1.5)", "warmup_start must be in [0, 1], but it is 1.5")]
    [InlineData("step(every=2, warmup_start=0.5)", "warmup_start needs warmup_steps or warmup_epochs")]
    [InlineData("constant(lr=1)", "unknown option 'lr' for constant: valid options are warmup_steps, warmup_epochs, warmup_start")]
    public void Bad_schedule_settings_are_refused_with_a_clear_message(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => ScheduleSpec.Parse(text));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Schedule_settings_that_do_not_apply_or_do_not_fit_the_rate_are_refused()
    {
        void Refused(Action action, string message) =>
            Assert.Equal(message, Assert.Throws<ArgumentException>(action).Message);
        Refused(new ScheduleSpec("cosine") { Epochs = 10, Gamma = 0.5 }.Validate,
            "gamma does not apply to the cosine schedule (only to step and exponential)");
        Refused(new ScheduleSpec("step") { Every = 1, Patience = 3 }.Validate,
            "patience does not apply to the step schedule (only to plateau)");
        Refused(() => ScheduleSpec.Parse("cosine(epochs=10, min_lr=0.1)").Create(0.01),
            "the cosine schedule's min_lr (0.1) is above the learning rate (0.01)");
        Refused(() => ScheduleSpec.None.Create(0), "the learning rate must be positive, but it is 0");
    }
}
