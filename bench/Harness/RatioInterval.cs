namespace Functional.Bench.Harness;

/// <summary>
/// A 95% bootstrap interval for the ratio of two medians: each sample is redrawn with replacement and the
/// ratio recomputed, 2,000 times (fixed seed, so a report can be regenerated exactly from its timings).
/// </summary>
public static class RatioInterval
{
    public static (double Low, double High) OfMedians(Sample numerator, Sample denominator, int resamples = 2000, int seed = 1)
    {
        var random = new Random(seed);
        var ratios = new double[resamples];
        for (var i = 0; i < resamples; i++)
            ratios[i] = numerator.Redrawn(random).Median / denominator.Redrawn(random).Median;
        var all = new Sample(ratios);
        return (all.Quantile(0.025), all.Quantile(0.975));
    }
}
