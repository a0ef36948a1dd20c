using TorchSharp;

namespace Functional.Training;

/// <summary>
/// The random generator training draws from (dropout): seeding it, and saving and restoring its state for
/// checkpoints. The one place the session touches it.
/// </summary>
internal static class SessionRandom
{
    public static void Seed(int seed) => torch.manual_seed(seed);

    /// <summary>The generator's state, as text for training.json.</summary>
    public static string Save()
    {
        using var state = torch.get_rng_state();
        return Convert.ToBase64String(state.bytes.ToArray());
    }

    public static void Restore(string saved)
    {
        using var state = torch.tensor(Convert.FromBase64String(saved));
        torch.set_rng_state(state);
    }
}
