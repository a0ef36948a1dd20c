namespace Functional.Training;

/// <summary>The loss became NaN or infinite: training stopped at that step with the weights of the step before.</summary>
public sealed class TrainingDivergedException(int epoch, long step, double loss)
    : Exception($"training diverged: the loss became {loss} at step {step} (epoch {epoch}); lower the learning rate or check the data")
{
    public int Epoch { get; } = epoch;
    public long Step { get; } = step;
}
