namespace Functional.Serving;

/// <summary>
/// A <see cref="Predictor"/> refused what it was given before anything reached libtorch: the message says what was
/// wrong (which example, which position, what the model takes). A service answers it with a 4xx.
/// </summary>
public sealed class InvalidInputException : ArgumentException
{
    /// <summary>A refusal with its reason and the argument it is about.</summary>
    public InvalidInputException(string message, string? paramName = null, Exception? inner = null)
        : base(message, paramName, inner) { }

    /// <summary>The reason alone, without the argument's name that <see cref="ArgumentException.Message"/> appends.</summary>
    public string Reason => ParamName is null ? Message : Message.Replace($" (Parameter '{ParamName}')", "");
}
