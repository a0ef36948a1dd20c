namespace Functional.Serving;

/// <summary>The class a classifier's output scores highest.</summary>
/// <param name="Index">its index in the output</param>
/// <param name="Name">its name, from the training data (the checkpoint's <c>classes</c>)</param>
/// <param name="Score">its output value</param>
public sealed record ClassPrediction(int Index, string Name, float Score);
