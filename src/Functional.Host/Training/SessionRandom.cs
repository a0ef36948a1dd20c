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

    public static void Restore(torch.Generator generator, string saved)
    {
        using var state = torch.tensor(Convert.FromBase64String(saved));
        generator.set_state(state);
    }
}
