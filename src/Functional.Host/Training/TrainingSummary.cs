namespace Functional.Training;

/// <summary>What a checkpoint records about the training that produced it.</summary>
public sealed record TrainingSummary(long? Seed, int Epochs, string Optimizer, double LearningRate, string Loss, double FinalLoss);
