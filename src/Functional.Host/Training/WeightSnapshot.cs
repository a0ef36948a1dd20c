using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.Training;

/// <summary>A copy of a module's state (parameters and buffers), outside any dispose scope, to put back later.</summary>
internal sealed class WeightSnapshot : IDisposable
{
    private readonly Dictionary<string, torch.Tensor> saved = new();

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

    public void Dispose()
    {
        foreach (var t in saved.Values) t.Dispose();
        saved.Clear();
    }
}
