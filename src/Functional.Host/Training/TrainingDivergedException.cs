namespace Functional.Training;

/// <summary>The loss became NaN or infinite: training stopped at that step with the weights of the step before.</summary>
public sealed class TrainingDivergedException(int epoch, long step, double loss)
    : Exception($"training diverged: the loss became {loss} at step {step} (epoch {epoch}); lower the learning rate or check the data")
{
    /// <summary>The epoch of the step (from 1).</summary>
    public int Epoch { get; } = epoch;

    /// <summary>The step whose loss was not finite (from 1, counted over the whole run).</summary>
    public long Step { get; } = step;
}
