using Functional.Lang;
using Functional.Lang.Checking;
using Functional.Training.Optimization;

namespace Functional.Training;

/// <summary>
/// The checks of a <c>train</c> block's optimizer and schedule settings that need the host's rules (ranges,
/// options that exclude each other, a schedule that must fit the rate), reported as diagnostics at the
/// place they are written, so that <c>fnn check</c> and <see cref="Networks.FnnFile"/> give
/// <c>file:line:col</c> and a caret rather than an error at training time.
/// </summary>
public static class TrainBlockChecks
{
    /// <summary>Every problem with the settings of the program's train blocks; empty when there is none.</summary>
    public static IReadOnlyList<Diagnostic> Diagnose(CheckedProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var diagnostics = new List<Diagnostic>();
        foreach (var train in program.Trains)
        {
            OptimizerSpec? optimizer = null;
            try
            {
                optimizer = OptimizerSpec.Parse(train.Optimizer.Name, Options(train.Optimizer));
            }
            catch (ArgumentException e)
            {
                diagnostics.Add(Error(train.Optimizer, $"train {train.Model}'s optimizer: {e.Message}"));
            }
            if (train.Schedule is not { } configured) continue;
            var schedule = configured.Value;
            try
            {
                var spec = ScheduleSpec.Parse(schedule.Name, Options(schedule));
                // The rate it starts from must suit it (a cosine's min_lr below the rate, ...).
                if (optimizer is not null) spec.Create(optimizer.EffectiveLearningRate);
            }
            catch (ArgumentException e)
            {
                diagnostics.Add(Error(schedule, $"train {train.Model}'s schedule: {e.Message}"));
            }
        }
        return diagnostics;
    }

    internal static Dictionary<string, string> Options(Configured configured) =>
        configured.Options.ToDictionary(o => o.Item1, o => o.Item2);

    private static Diagnostic Error(Configured configured, string message) =>
        Lang.DiagnosticModule.error(configured.Range, CamelCase(message));

    /// <summary>The host names options as PyTorch does (<c>min_lr</c>); a .fnn file writes <c>minLr</c>.</summary>
    private static string CamelCase(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, "(?<=[a-z])_([a-z])", m => m.Groups[1].Value.ToUpperInvariant());
}
