namespace Functional.Service;

/// <summary>A request body that is not what an endpoint takes; the message says what was expected.</summary>
internal sealed class RequestFormatException(string message) : Exception(message);
