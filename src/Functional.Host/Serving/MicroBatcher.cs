using System.Threading.Channels;
using TorchSharp;

namespace Functional.Serving;

/// <summary>
/// Gathers calls that arrive within a window into one forward pass (<see cref="MicroBatchingOptions"/>). One loop
/// takes the first waiting call, then whatever else arrives until the window closes or the batch is full, runs
/// each group of one example shape as one batch, and hands every caller its rows. A call cancelled while it waits
/// is dropped from its batch.
/// </summary>
internal sealed class MicroBatcher
{
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<torch.Tensor, int, float[][]> run;
    private readonly MicroBatchingOptions options;
    private readonly Task loop;

    /// <param name="run">the outputs of a batch of inputs (the tensor, and how many examples it holds)</param>
    /// <param name="options">the window and the largest batch</param>
    public MicroBatcher(Func<torch.Tensor, int, float[][]> run, MicroBatchingOptions options)
    {
        this.run = run;
        this.options = options;
        loop = Task.Run(Loop);
    }

    /// <summary>The rows for <paramref name="input"/> (checked, detached from any dispose scope: the batcher frees it).</summary>
    public Task<float[][]> Enqueue(torch.Tensor input, int count, CancellationToken cancellation)
    {
        var pending = new Pending(input, count, cancellation);
        if (!queue.Writer.TryWrite(pending))
        {
            input.Dispose();
            throw new ObjectDisposedException(nameof(Predictor));
        }
        return pending.Result.Task;
    }

    /// <summary>Takes no more calls and waits until those queued have run.</summary>
    public void Complete()
    {
        queue.Writer.TryComplete();
        loop.GetAwaiter().GetResult();
    }

    private async Task Loop()
    {
        var reader = queue.Reader;
        Pending? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = new List<Pending>();
            var examples = 0;
            if (carried is not null) Add(carried);
            carried = null;
            using var window = new CancellationTokenSource(options.Window);
            while (examples < options.MaxBatchSize)
            {
                if (reader.TryRead(out var next))
                {
                    // A call's examples are never split: one that does not fit starts the next batch.
                    if (batch.Count > 0 && examples + next.Count > options.MaxBatchSize)
                    {
                        carried = next;
                        break;
                    }
                    Add(next);
                    continue;
                }
                try
                {
                    if (!await reader.WaitToReadAsync(window.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Run(batch);
            continue;

            void Add(Pending p)
            {
                batch.Add(p);
                examples += p.Count;
            }
        }
    }

    private void Run(List<Pending> batch)
    {
        var live = new List<Pending>();
        foreach (var p in batch)
        {
            if (p.Cancellation.IsCancellationRequested) p.Result.TrySetCanceled(p.Cancellation);
            if (p.Result.Task.IsCompleted) p.Release();
            else live.Add(p);
        }
        // Examples of one shape (a symbolic length: one per sequence length) make one pass.
        foreach (var group in live.GroupBy(p => string.Join(",", p.Input.shape.Skip(1))))
        {
            var calls = group.ToList();
            try
            {
                using var scope = torch.NewDisposeScope();
                var x = calls.Count == 1 ? calls[0].Input : torch.cat(calls.Select(c => c.Input).ToArray(), 0);
                var rows = run(x, calls.Sum(c => c.Count));
                var at = 0;
                foreach (var call in calls)
                {
                    call.Result.TrySetResult(rows[at..(at + call.Count)]);
                    at += call.Count;
                }
            }
            catch (Exception e)
            {
                foreach (var call in calls) call.Result.TrySetException(e);
            }
            finally
            {
                foreach (var call in calls) call.Release();
            }
        }
    }

    private sealed class Pending
    {
        public Pending(torch.Tensor input, int count, CancellationToken cancellation)
        {
            Input = input;
            Count = count;
            Cancellation = cancellation;
            // A caller that gives up while its call waits gets its cancellation at once; the batch drops the call.
            if (cancellation.CanBeCanceled) registration = cancellation.Register(() => Result.TrySetCanceled(cancellation));
        }

        private readonly CancellationTokenRegistration registration;

        /// <summary>Frees the input and the cancellation's registration, once the call has its answer.</summary>
        public void Release()
        {
            Input.Dispose();
            registration.Dispose();
        }

        public torch.Tensor Input { get; }
        public int Count { get; }
        public CancellationToken Cancellation { get; }
        public TaskCompletionSource<float[][]> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
