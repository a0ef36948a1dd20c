namespace Functional.Training.Optimization;

/// <summary>
/// Everything a <see cref="LearningRateSchedule"/> needs to carry on where it stopped (for checkpoints;
/// plain numbers, so it serialises to JSON as it is).
/// </summary>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="Steps">Batches (optimizer steps) completed.</param>
/// <param name="PlateauLearningRate">Reduce-on-plateau's current rate before warm-up; null for other schedules.</param>
/// <param name="Best">Reduce-on-plateau's best monitored value so far; null before the first.</param>
/// <param name="BadEpochs">Reduce-on-plateau's epochs since the last improvement.</param>
/// <param name="CooldownLeft">Reduce-on-plateau's cooldown epochs still to run.</param>
public sealed record ScheduleState(int Epochs, long Steps, double? PlateauLearningRate, double? Best, int BadEpochs, int CooldownLeft);
