namespace Functional.Training;

/// <summary>Progress after one training step of <see cref="Networks.Network.Fit"/>: the batch (from 1) of the epoch, and its loss.</summary>
public sealed record BatchReport(int Epoch, int Batch, int Batches, double Loss, int Examples);
