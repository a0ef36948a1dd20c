namespace Functional.Serving;

/// <summary>What a <see cref="Predictor"/> does with NaN and infinite input values.</summary>
public enum NonFiniteInputs
{
    /// <summary>Refuse the call with an <see cref="InvalidInputException"/> naming the example and the position (the default).</summary>
    Reject,

    /// <summary>Pass them to the model (real-valued inputs only: token ids are always checked).</summary>
    Allow,
}
