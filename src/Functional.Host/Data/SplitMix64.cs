namespace Functional.Data;

/// <summary>
/// Steele, Lea and Flood's SplitMix64 generator: 64 bits of state, a Weyl sequence and a mixing function.
/// Written here so that seeded streams (epoch orders, sampled tokens) stay the same across .NET versions
/// (<see cref="Random"/>'s seeded sequence is not promised to) and libtorch builds.
/// </summary>
internal static class SplitMix64
{
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Next(ref ulong state) => Mix(state += 0x9E3779B97F4A7C15UL);

    /// <summary>A number in 0 .. bound - 1 (the high half of a 128-bit product; its bias, under 2^-32 here, is immaterial).</summary>
    public static ulong Below(ref ulong state, ulong bound) => Math.BigMul(Next(ref state), bound, out _);

    /// <summary>A number in [0, 1) with 53 random bits.</summary>
    public static double NextDouble(ref ulong state) => (Next(ref state) >> 11) * (1.0 / (1UL << 53));
}
