using System.Globalization;
using TorchSharp;

namespace Functional.Data;

/// <summary>
/// A transformation of features, as a value: compute it once on the training set
/// (<see cref="ComputeStandardization"/>), then apply the same one to validation and test data
/// (<see cref="DatasetExtensions.Normalize"/>) or save its numbers with a checkpoint.
/// </summary>
public sealed class Normalization
{
    /// <summary>Below this a standard deviation counts as zero: a constant feature (an image's empty border) is only centred.</summary>
    public const float MinimumStd = 1e-6f;

    private readonly float[] mean;
    private readonly float[] std;

    private Normalization(NormalizationKind kind, float divisor, float[] mean, float[] std)
    {
        Kind = kind;
        Divisor = divisor;
        this.mean = mean;
        this.std = std;
    }

    /// <summary>Leaves features as they are.</summary>
    public static Normalization None { get; } = new(NormalizationKind.None, 1, [], []);

    /// <summary>Which rule: none, a scale, or a per-feature standardization.</summary>
    public NormalizationKind Kind { get; }

    /// <summary>For <see cref="NormalizationKind.Scale"/>: what features are divided by (else 1).</summary>
    public float Divisor { get; }

    /// <summary>For <see cref="NormalizationKind.Standardize"/>: one mean per feature (row-major), or one for all; else empty.</summary>
    public IReadOnlyList<float> Mean => Array.AsReadOnly(mean);

    /// <summary>For <see cref="NormalizationKind.Standardize"/>: the standard deviations, as many as <see cref="Mean"/>.</summary>
    public IReadOnlyList<float> Std => Array.AsReadOnly(std);

    /// <summary>Whether there is one mean and deviation per feature (rather than one for all values).</summary>
    public bool PerFeature => mean.Length > 1;

    /// <summary>Divides features by <paramref name="divisor"/> (255 maps byte images to 0..1).</summary>
    public static Normalization Scale(float divisor)
    {
        if (!float.IsFinite(divisor) || divisor == 0)
            throw new ArgumentOutOfRangeException(nameof(divisor), divisor, "the divisor must be a finite number other than 0");
        return new Normalization(NormalizationKind.Scale, divisor, [], []);
    }

    /// <summary>
    /// Standardizes with known statistics (saved from a training set): one mean and deviation for all values, or
    /// one per feature in row-major order.
    /// </summary>
    public static Normalization Standardize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"there are {mean.Length} means and {std.Length} standard deviations: give one of each, or one per feature");
        for (var i = 0; i < mean.Length; i++)
            if (!float.IsFinite(mean[i]) || !float.IsFinite(std[i]) || std[i] <= 0)
                throw new ArgumentException($"feature {i + 1}'s mean {mean[i]} and standard deviation {std[i]}: both must be finite and the deviation above 0");
        return new Normalization(NormalizationKind.Standardize, 1, [.. mean], [.. std]);
    }

    /// <summary>
    /// The mean and (population) standard deviation of <paramref name="training"/>'s features, per feature or over
    /// all values, read in batches and accumulated in double precision. A deviation below <see cref="MinimumStd"/>
    /// becomes 1.
    /// </summary>
    public static Normalization ComputeStandardization(IDataset training, bool perFeature = true, int batchSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (training.Count == 0) throw new ArgumentException("the dataset has no examples to compute statistics from", nameof(training));
        var width = perFeature ? (int)BatchTensors.Elements(training.FeatureShape) : 1;
        var mean = new double[width];
        var m2 = new double[width];
        double n = 0;
        var indices = new int[Math.Min(batchSize, training.Count)];
        for (var start = 0; start < training.Count; start += batchSize)
        {
            var size = Math.Min(batchSize, training.Count - start);
            for (var i = 0; i < size; i++) indices[i] = start + i;
            using var scope = torch.NewDisposeScope();
            using var batch = training.ReadBatch(indices.AsSpan(0, size));
            var x = batch.Features.to(torch.ScalarType.Float64).reshape(perFeature ? size : -1, perFeature ? width : 1);
            var batchMean = x.mean([0]);
            var batchM2 = (x - batchMean).square().sum([0]);
            // Chan et al.'s pairwise update: combines this batch's mean and squared deviations with the running ones.
            var nb = (double)x.shape[0];
            var total = n + nb;
            var bm = batchMean.data<double>().ToArray();
            var bm2 = batchM2.data<double>().ToArray();
            for (var j = 0; j < width; j++)
            {
                var delta = bm[j] - mean[j];
                mean[j] += delta * nb / total;
                m2[j] += bm2[j] + delta * delta * n * nb / total;
            }
            n = total;
        }
        var std = m2.Select(v => (float)Math.Sqrt(v / n)).Select(s => s < MinimumStd ? 1f : s).ToArray();
        return new Normalization(NormalizationKind.Standardize, 1, mean.Select(m => (float)m).ToArray(), std);
    }

    /// <summary>A new tensor: <paramref name="features"/> (<c>[batch, ...]</c>) normalised. The caller owns it.</summary>
    public torch.Tensor Apply(torch.Tensor features)
    {
        using var scope = torch.NewDisposeScope();
        var result = features.clone();
        ApplyInPlace(result);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Normalises <paramref name="features"/> (<c>[batch, ...]</c>, floating point) in place.</summary>
    internal void ApplyInPlace(torch.Tensor features)
    {
        if (Kind == NormalizationKind.None) return;
        using var scope = torch.NewDisposeScope();
        var options = (dtype: features.dtype, device: features.device);
        if (Kind == NormalizationKind.Scale)
        {
            features.div_(torch.tensor(Divisor, options.dtype, options.device));
            return;
        }
        var exampleDims = features.shape[1..];
        var elements = exampleDims.Aggregate(1L, (a, b) => a * b);
        long[] dims = PerFeature ? exampleDims : [];
        if (PerFeature) CheckWidth(elements, () => BatchTensors.ShapeText(exampleDims));
        var m = torch.tensor(mean, dims, options.dtype, options.device);
        var s = torch.tensor(std, dims, options.dtype, options.device);
        features.sub_(m).div_(s);
    }

    /// <summary>Normalises row-major features in managed memory, <paramref name="exampleElements"/> values per example.</summary>
    internal void ApplyInPlace(Span<float> values, int exampleElements)
    {
        switch (Kind)
        {
            case NormalizationKind.None:
                return;
            case NormalizationKind.Scale:
                for (var i = 0; i < values.Length; i++) values[i] /= Divisor;
                return;
        }
        if (!PerFeature)
        {
            for (var i = 0; i < values.Length; i++) values[i] = (values[i] - mean[0]) / std[0];
            return;
        }
        CheckWidth(exampleElements, () => $"[{exampleElements}]");
        for (var start = 0; start < values.Length; start += exampleElements)
        {
            var row = values.Slice(start, exampleElements);
            for (var j = 0; j < row.Length; j++) row[j] = (row[j] - mean[j]) / std[j];
        }
    }

    private void CheckWidth(long elements, Func<string> shape)
    {
        if (elements != mean.Length)
            throw new ArgumentException(
                $"the standardization was computed for examples of {mean.Length} values but these have {elements} ({shape()})");
    }

    /// <summary>The rule as the command line writes it (<c>scale:255</c>).</summary>
    public override string ToString() => Kind switch
    {
        NormalizationKind.None => "none",
        NormalizationKind.Scale => $"scale by 1/{Divisor.ToString(CultureInfo.InvariantCulture)}",
        _ => PerFeature
            ? $"standardize per feature ({mean.Length} features)"
            : $"standardize (mean {mean[0].ToString(CultureInfo.InvariantCulture)}, std {std[0].ToString(CultureInfo.InvariantCulture)})",
    };
}
