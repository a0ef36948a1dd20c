namespace Functional.Hosting;

/// <summary>A served model was asked for an answer before it had loaded, or after its load failed (a service answers 503).</summary>
public sealed class ModelNotReadyException(string model, ModelState state, string? error)
    : InvalidOperationException(state == ModelState.Loading
        ? $"model '{model}' is still loading"
        : $"model '{model}' could not be loaded: {error}")
{
    /// <summary>The model's name.</summary>
    public string Model { get; } = model;

    /// <summary>Its state when it was asked.</summary>
    public ModelState State { get; } = state;
}
