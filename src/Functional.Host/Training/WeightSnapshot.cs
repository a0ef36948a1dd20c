using Functional.Checkpoints;
using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.Training;

/// <summary>A copy of a module's state (parameters and buffers), outside any dispose scope, to put back later.</summary>
internal sealed class WeightSnapshot : IDisposable
{
    private readonly Dictionary<string, torch.Tensor> saved = new();

    /// <summary>Whether a copy has been taken.</summary>
    public bool IsEmpty => saved.Count == 0;

    /// <summary>Replaces the copy with the module's current state.</summary>
    public void Take(CompiledModel module)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            if (saved.TryGetValue(name, out var old))
                old.copy_(tensor);
            else
                saved[name] = tensor.detach().clone().DetachFromDisposeScope();
        }
    }

    /// <summary>Copies the saved state back into the module's tensors, in place.</summary>
    public void Restore(CompiledModel module)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in module.state_dict())
            if (saved.TryGetValue(name, out var copy))
                tensor.copy_(copy);
    }

    /// <summary>Writes the copy as a safetensors file.</summary>
    public void Save(string path) => SafeTensors.Save(path, saved);

    /// <summary>Replaces the copy with the tensors of a file written by <see cref="Save"/> from <paramref name="module"/>
    /// (its header compared with the module's state before any data is read).</summary>
    public void Load(string path, CompiledModel module)
    {
        Checkpoint.RequireFits(SafeTensors.ReadHeader(path), module.state_dict(), path, module.Model.Name);
        using var file = SafeTensors.Load(path);
        using var noGrad = torch.no_grad();
        Dispose();
        foreach (var (name, tensor) in file.Tensors)
            saved[name] = tensor.clone().DetachFromDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in saved.Values) t.Dispose();
        saved.Clear();
    }
}
