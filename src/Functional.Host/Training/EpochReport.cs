namespace Functional.Training;

/// <summary>Progress after one epoch: its number (from 1), the number planned, and the mean training loss.</summary>
public sealed record EpochReport(int Epoch, int Epochs, double Loss, TimeSpan Elapsed);
