namespace Functional.Bench.Harness;

/// <summary>Timings of one action (milliseconds): the median and the spread around it.</summary>
public sealed class Sample
{
    private readonly double[] sorted;

    public Sample(IEnumerable<double> milliseconds)
    {
        sorted = milliseconds.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("a sample needs at least one timing", nameof(milliseconds));
    }

    public int Count => sorted.Length;
    public double Median => Quantile(0.5);
    public double P25 => Quantile(0.25);
    public double P75 => Quantile(0.75);
    public double Min => sorted[0];
    public double Max => sorted[^1];

    /// <summary>The interquartile range relative to the median: how noisy the measurement was.</summary>
    public double RelativeSpread => Median > 0 ? (P75 - P25) / Median : 0;

    /// <summary>As many timings drawn from this one with replacement (for bootstrap intervals).</summary>
    public Sample Redrawn(Random random) => new(Enumerable.Range(0, sorted.Length).Select(_ => sorted[random.Next(sorted.Length)]));

    /// <summary>Linear interpolation between the closest ranks (type 7, as numpy and R by default).</summary>
    public double Quantile(double q)
    {
        if (q is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(q), q, "a quantile is between 0 and 1");
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }
}
