using System.Runtime.InteropServices;

namespace Functional.Networks;

/// <summary>
/// libtorch refused an operation that our checks let through (for example bce on outputs outside [0, 1]):
/// the message says what we were doing and libtorch's reason, without its C++ stack trace.
/// </summary>
public sealed class EngineException : Exception
{
    private EngineException(string message, ExternalException inner) : base(message, inner) { }

    internal static EngineException From(ExternalException e, string doing)
    {
        var reason = e.Message.Split('\n', 2)[0].Trim();
        return new EngineException($"{doing} failed in libtorch: {reason}", e);
    }
}
