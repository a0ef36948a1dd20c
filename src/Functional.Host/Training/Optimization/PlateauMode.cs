namespace Functional.Training.Optimization;

/// <summary>Whether reduce-on-plateau watches for the monitored value to fall (a loss) or rise (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better.</summary>
    Min,

    /// <summary>Higher is better.</summary>
    Max,
}
