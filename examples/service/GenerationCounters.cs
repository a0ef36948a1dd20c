namespace Functional.Service;

/// <summary>What the service's generations are doing: how many stream now, and the tokens produced in all (shown by <c>GET /models</c>).</summary>
internal sealed class GenerationCounters
{
    private int running;
    private long tokens;

    public int Running => Volatile.Read(ref running);
    public long Tokens => Interlocked.Read(ref tokens);

    public void Started() => Interlocked.Increment(ref running);
    public void Ended(int produced)
    {
        Interlocked.Add(ref tokens, produced);
        Interlocked.Decrement(ref running);
    }
}
