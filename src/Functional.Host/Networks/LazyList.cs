using System.Collections;

namespace Functional.Networks;

/// <summary>A read-only list made on first use (once, whichever thread asks first).</summary>
internal sealed class LazyList<T>(Func<IReadOnlyList<T>> make) : IReadOnlyList<T>
{
    private readonly Lazy<IReadOnlyList<T>> items = new(make, LazyThreadSafetyMode.ExecutionAndPublication);

    public T this[int index] => items.Value[index];
    public int Count => items.Value.Count;
    public IEnumerator<T> GetEnumerator() => items.Value.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
