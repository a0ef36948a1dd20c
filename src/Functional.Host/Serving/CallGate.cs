namespace Functional.Serving;

/// <summary>
/// Counts the calls in flight so that closing waits for them, without a lock on the way in or out: one integer,
/// the count, with its top bit set once closing began (then no call enters). An optional semaphore bounds how many
/// compute at once.
/// </summary>
internal sealed class CallGate(int? maxConcurrent)
{
    private const int Closing = int.MinValue;
    private int state;
    private readonly SemaphoreSlim? slots = maxConcurrent is { } n ? new SemaphoreSlim(n, n) : null;
    private readonly ManualResetEventSlim drained = new(false);

    public bool IsClosed => Volatile.Read(ref state) < 0;

    /// <summary>Counts a call in, or returns false once closing began.</summary>
    public bool TryEnter()
    {
        while (true)
        {
            var now = Volatile.Read(ref state);
            if (now < 0) return false;
            if (Interlocked.CompareExchange(ref state, now + 1, now) == now) return true;
        }
    }

    /// <summary>Counts a call out; the last one out after closing began lets <see cref="Close"/> go on.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref state) == Closing) drained.Set();
    }

    /// <summary>A held call (<see cref="Exit"/> on dispose), or null once closing began.</summary>
    public IDisposable? Lease() => TryEnter() ? new Held(this) : null;

    /// <summary>Waits for one of the bounded slots (at once when unbounded).</summary>
    public void WaitSlot(CancellationToken cancellation) => slots?.Wait(cancellation);

    /// <summary>Waits asynchronously for one of the bounded slots (at once when unbounded).</summary>
    public Task WaitSlotAsync(CancellationToken cancellation) => slots?.WaitAsync(cancellation) ?? Task.CompletedTask;

    public void ReleaseSlot() => slots?.Release();

    /// <summary>Lets no new call in and waits for those in flight; true the first time.</summary>
    public bool Close()
    {
        while (true)
        {
            var now = Volatile.Read(ref state);
            if (now < 0) return false;
            if (Interlocked.CompareExchange(ref state, now | Closing, now) != now) continue;
            if (now != 0) drained.Wait();
            return true;
        }
    }

    private sealed class Held(CallGate gate) : IDisposable
    {
        private int done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref done, 1) == 0) gate.Exit();
        }
    }
}
