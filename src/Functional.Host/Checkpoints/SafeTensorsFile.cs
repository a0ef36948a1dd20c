using static TorchSharp.torch;

namespace Functional.Checkpoints;

/// <summary>
/// The tensors loaded from a safetensors file, on the CPU. It owns them: disposing it disposes every tensor it
/// still holds. Use <see cref="Take"/> to keep a tensor beyond it.
/// </summary>
/// <remarks>The tensors belong to no dispose scope, whatever scope was active when the file was loaded.</remarks>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors;
    private bool disposed;

    internal SafeTensorsFile(SafeTensorsHeader header, Dictionary<string, Tensor> tensors)
    {
        Header = header;
        this.tensors = tensors;
    }

    /// <summary>The file's validated header (entries, offsets, metadata).</summary>
    public SafeTensorsHeader Header { get; }

    /// <summary>The tensors by name, in file order. Do not dispose them yourself unless you <see cref="Take"/> them.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return tensors;
        }
    }

    /// <summary>The "__metadata__" string map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <summary>
    /// Removes a tensor from this file and hands it to the caller, who then owns (and must dispose) it.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name is held (never was, or was already taken).</exception>
    public Tensor Take(string name)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!tensors.Remove(name, out var tensor))
            throw new KeyNotFoundException($"No tensor named '{name}' is held by this SafeTensorsFile.");
        return tensor;
    }

    /// <summary>Disposes every tensor still held.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var tensor in tensors.Values) tensor.Dispose();
        tensors.Clear();
    }
}
