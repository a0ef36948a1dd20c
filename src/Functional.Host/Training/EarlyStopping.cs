namespace Functional.Training;

/// <summary>
/// Stop <see cref="Networks.Network.Fit"/> when <paramref name="Monitor"/> has not improved by more than
/// <paramref name="MinDelta"/> for <paramref name="Patience"/> epochs in a row (Keras's rule).
/// </summary>
/// <param name="Monitor">"val_loss", "loss", or a metric's name, with "val_" for its validation value ("val_accuracy").
/// Losses improve downwards; a metric in the direction of <see cref="Metric.HigherIsBetter"/>.</param>
/// <param name="Patience">epochs without improvement before stopping (0: stop at the first)</param>
/// <param name="MinDelta">the least change that counts as an improvement</param>
/// <param name="RestoreBestWeights">at the end of the run (stopped early or not, but not cancelled), put back
/// the weights of the best epoch</param>
public sealed record EarlyStopping(string Monitor = "val_loss", int Patience = 0, double MinDelta = 0, bool RestoreBestWeights = false);
