namespace Functional.Generation;

/// <summary>
/// Streams a continuation while watching for stop texts: a piece is released only once it cannot be the
/// start of a stop text, and the text ends just before the first stop text found (even one that spans
/// several tokens).
/// </summary>
internal sealed class StopText(IReadOnlyList<string> stops)
{
    private readonly System.Text.StringBuilder text = new();
    private readonly int longest = stops.Count == 0 ? 0 : stops.Max(s => s.Length);
    private int released;

    /// <summary>Whether a stop text has been found: nothing more is released.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a decoded piece; returns what can be released now (perhaps nothing).</summary>
    public string Add(string piece)
    {
        if (stops.Count == 0) return piece;
        if (Stopped || piece.Length == 0) return "";
        text.Append(piece);
        var all = text.ToString();
        // Only a match that ends in the new piece can be new; search from where it could start.
        var from = Math.Max(0, all.Length - piece.Length - longest + 1);
        var end = all.Length;
        foreach (var stop in stops)
        {
            var at = all.IndexOf(stop, from, StringComparison.Ordinal);
            if (at >= 0 && at < end) end = at;
        }
        if (end < all.Length)
        {
            Stopped = true;
            return Release(all, Math.Max(end, released));
        }
        return Release(all, all.Length - HeldBack(all));
    }

    /// <summary>What is still held back, released at the end of the text (no stop text came).</summary>
    public string Flush() => Stopped ? "" : Release(text.ToString(), text.Length);

    private string Release(string all, int upTo)
    {
        if (upTo <= released) return "";
        var piece = all[released..upTo];
        released = upTo;
        return piece;
    }

    /// <summary>The length of the longest end of the text that begins some stop text.</summary>
    private int HeldBack(string all)
    {
        var longest = 0;
        foreach (var stop in stops)
            for (var n = Math.Min(stop.Length - 1, all.Length); n > longest; n--)
                if (string.CompareOrdinal(all, all.Length - n, stop, 0, n) == 0)
                {
                    longest = n;
                    break;
                }
        return longest;
    }
}
