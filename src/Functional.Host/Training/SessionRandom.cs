using Functional.Lang.Compilation;
using TorchSharp;

namespace Functional.Training;

/// <summary>
/// The random generator training draws from (dropout): the network's own (never torch's global one, so
/// that networks train on several threads at once), seeded, and saved and restored for checkpoints. The
/// one place the session touches it.
/// </summary>
internal static class SessionRandom
{
    public static void Seed(torch.Generator generator, int seed) => Randomness.reseed(generator, seed);

    /// <summary>The generator's state, as text for training.json.</summary>
    public static string Save(torch.Generator generator)
    {
        using var state = generator.get_state();
        return Convert.ToBase64String(state.bytes.ToArray());
    }

    /// <summary>How many bytes libtorch's CPU generator state has (5056 in libtorch 2.10), measured once.</summary>
    public static int StateBytes => stateBytes.Value;

    private static readonly Lazy<int> stateBytes = new(() =>
    {
        using var generator = new torch.Generator(0, torch.CPU);
        using var state = generator.get_state();
        return (int)state.NumberOfElements;
    });

    // The first fields of CPUGeneratorImplState (aten/src/ATen/CPUGeneratorImpl.cpp): the seed (8 bytes), then
    // the Mersenne twister's `left` (int32, 1..624) and, after `seeded`, `next` (uint64, 0..624), which set_state checks.
    private const int MersenneStateN = 624;

    /// <summary>What is wrong with a saved generator state, or null when libtorch's CPU generator takes it.</summary>
    public static string? Check(string saved)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(saved);
        }
        catch (FormatException)
        {
            return "expected the random generator's state in base64, found text that is not base64";
        }
        if (bytes.Length != StateBytes)
            return $"expected the random generator's state of {StateBytes} bytes (libtorch's CPU generator), found {bytes.Length} bytes";
        var left = BitConverter.ToInt32(bytes, 8);
        var next = BitConverter.ToUInt64(bytes, 16);
        if (left < 1 || left > MersenneStateN || next > MersenneStateN)
            return $"expected a random generator state whose indices lie in 1..{MersenneStateN} (left) and 0..{MersenneStateN} (next), found {left} and {next}";
        return null;
    }

    /// <summary>Restores a state that <see cref="Check"/> accepted.</summary>
    public static void Restore(torch.Generator generator, string saved)
    {
        using var state = torch.tensor(Convert.FromBase64String(saved));
        generator.set_state(state);
    }
}
