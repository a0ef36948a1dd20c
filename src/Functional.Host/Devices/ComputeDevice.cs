using TorchSharp;

namespace Functional.Devices;

/// <summary>Where a network's tensors live: the CPU or one CUDA device.</summary>
public sealed record ComputeDevice
{
    private ComputeDevice(DeviceType type, int index) => (Type, Index) = (type, index);

    /// <summary>CPU or CUDA.</summary>
    public DeviceType Type { get; }

    /// <summary>The CUDA device's index; -1 for the CPU.</summary>
    public int Index { get; }

    /// <summary>The CPU.</summary>
    public static ComputeDevice Cpu { get; } = new(DeviceType.CPU, -1);

    /// <summary>CUDA device <paramref name="index"/>; checked when the network is built.</summary>
    public static ComputeDevice Cuda(int index = 0) =>
        index >= 0 ? new(DeviceType.CUDA, index) : throw new ArgumentOutOfRangeException(nameof(index), index, "a CUDA device index is 0 or more");

    /// <summary>The first CUDA device when one is available, else the CPU.</summary>
    public static ComputeDevice Auto
    {
        get
        {
            Engine.ensureStarted();
            return torch.cuda.is_available() ? Cuda(0) : Cpu;
        }
    }

    /// <summary>Parses "cpu", "cuda", "cuda:N" or "auto" (as the CLI's --device takes them).</summary>
    public static ComputeDevice Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "auto") return Auto;
        if (t == "cuda") return Cuda(0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out var i) && i >= 0) return Cuda(i);
        throw new FormatException($"unknown device '{text}': expected cpu, cuda, cuda:N or auto");
    }

    /// <summary>The TorchSharp device, after checking that it exists on this machine.</summary>
    internal torch.Device ToTorch()
    {
        Engine.ensureStarted();
        if (Type == DeviceType.CPU) return torch.CPU;
        if (!torch.cuda.is_available())
            throw new InvalidOperationException($"{this} was asked for, but this machine has no CUDA device (or this build of libtorch has no CUDA support)");
        var count = torch.cuda.device_count();
        if (Index >= count)
            throw new InvalidOperationException($"{this} was asked for, but this machine has {count} CUDA device(s): cuda:0 to cuda:{count - 1}");
        return new torch.Device(DeviceType.CUDA, Index);
    }

    /// <summary>The device as <see cref="Parse"/> reads it: <c>cpu</c> or <c>cuda:N</c>.</summary>
    public override string ToString() => Type == DeviceType.CPU ? "cpu" : $"cuda:{Index}";
}
