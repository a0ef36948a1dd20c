using ScottPlot;

namespace Functional.Bench.Reports;

/// <summary>
/// chart.png: compiled / hand-written per network and phase, as bars from parity (1.0) with their 95%
/// intervals, and the 1.05 limit.
/// </summary>
public static class ChartReport
{
    public static void Write(BenchResults results, string path)
    {
        using var plot = new Plot();
        var rows = results.Comparisons;
        var bars = rows.Select((c, i) => new Bar
        {
            Position = i,
            ValueBase = 1.0,
            Value = c.Ratio,
            FillColor = c.Phase == "train" ? Colors.SteelBlue : c.Phase == "inference" ? Colors.Orange : Colors.SeaGreen,
            Label = c.Ratio.ToString("0.000"),
        }).ToArray();
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 14;
        var interval = new ScottPlot.Plottables.ErrorBar(
            rows.Select((_, i) => (double)i).ToList(), rows.Select(c => c.Ratio).ToList(),
            null, null, rows.Select(c => c.RatioHigh - c.Ratio).ToList(), rows.Select(c => c.Ratio - c.RatioLow).ToList());
        interval.Color = Colors.Black;
        plot.Add.Plottable(interval);
        var limit = plot.Add.HorizontalLine(Limits.Ratio, 2, Colors.Red, LinePattern.Dashed);
        limit.LegendText = "limit 1.05";
        var parity = plot.Add.HorizontalLine(1.0, 1, Colors.Gray);
        parity.LegendText = "parity";
        plot.Axes.Bottom.SetTicks(rows.Select((_, i) => (double)i).ToArray(), rows.Select(c => $"{c.Network} {c.Phase}").ToArray());
        plot.Axes.SetLimitsY(Math.Min(0.9, rows.Min(c => c.RatioLow) - 0.02), Math.Max(1.1, rows.Max(c => c.RatioHigh) + 0.03));
        plot.YLabel("compiled / hand-written (median time)");
        plot.Title($"Functional vs hand-written TorchSharp ({results.Environment.Mode} run, {results.Environment.Date})");
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, 900, 500);
    }
}
