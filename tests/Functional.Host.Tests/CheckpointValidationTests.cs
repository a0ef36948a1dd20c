using System.Buffers.Binary;
using Functional.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Functional.Host.Tests;

/// <summary>
/// A checkpoint's files read from hostile bytes: every field is checked against the bytes left and what the
/// model (or optimizer) has, before anything is allocated from it; every failure names the place and what was expected.
/// </summary>
public sealed class CheckpointValidationTests
{
    // ---- optimizer.bin ----

    private static Parameter Weights() => new(tensor(new[] { 1.0, -2.0, 3.0 }, dtype: ScalarType.Float64), requires_grad: true);

    private static void OneStep(TrainingOptimizer optimizer, Parameter w)
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        (w * tensor(new[] { 0.5, -1.0, 2.0 }, dtype: ScalarType.Float64)).sum().backward();
        optimizer.Step();
    }

    /// <summary>
    /// adam over one float64 [3] parameter after one step. Its layout: magic 0-26, version 27, name 31, learning
    /// rate 36, parameter count 44, state tensor count 48, their names 52 and 60, step count 71; exp_avg: flag 79,
    /// element type 80, rank 84, size 88, byte length 96, data 100-123; exp_avg_sq: flag 124, ... data 145-168.
    /// </summary>
    private static byte[] AdamState()
    {
        using var w = Weights();
        using var adam = Optimizer.Adam(lr: 0.01).Create([w]);
        OneStep(adam, w);
        var state = adam.SaveState();
        Assert.Equal(169, state.Length); // the layout above
        return state;
    }

    private static InvalidDataException Refused(byte[] state, string optimizer = "adam(lr=0.01)")
    {
        using var w = Weights();
        using var target = Optimizer.Parse(optimizer).Create([w]);
        return Assert.Throws<InvalidDataException>(() => target.LoadState(state));
    }

    private static byte[] WithInt32(byte[] state, int at, int value)
    {
        var copy = (byte[])state.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(at), value);
        return copy;
    }

    private static byte[] WithInt64(byte[] state, int at, long value)
    {
        var copy = (byte[])state.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(at), value);
        return copy;
    }

    [Theory]
    [InlineData(44, -1, "at byte 44 (parameter count): the optimizer state is for -1 parameters, but this optimizer has 1")]
    [InlineData(44, int.MaxValue, "at byte 44 (parameter count): the optimizer state is for 2147483647 parameters")]
    [InlineData(48, 1_000_000_000, "at byte 48 (state tensor count): expected 2, found 1000000000")]
    [InlineData(80, 12345, "at byte 80 (parameter 0's exp_avg element type): expected a floating-point type code")]
    [InlineData(84, int.MaxValue, "at byte 84 (parameter 0's exp_avg rank): expected 1, found 2147483647")]
    [InlineData(84, -1, "at byte 84 (parameter 0's exp_avg rank): expected 1, found -1")]
    [InlineData(96, -1, "at byte 96 (parameter 0's exp_avg byte length): expected 24, found -1")]
    [InlineData(96, int.MaxValue, "at byte 96 (parameter 0's exp_avg byte length): expected 24, found 2147483647")]
    public void A_changed_count_rank_or_length_in_optimizer_state_names_its_offset(int at, int value, string expected) =>
        Assert.StartsWith(expected, Refused(WithInt32(AdamState(), at, value)).Message);

    [Fact]
    public void A_changed_size_step_count_or_rate_in_optimizer_state_names_its_offset()
    {
        var state = AdamState();
        Assert.StartsWith("at byte 88 (parameter 0's exp_avg size 0): expected 3 (the parameter is [3]), found 1099511627776",
            Refused(WithInt64(state, 88, 1L << 40)).Message);
        Assert.StartsWith("at byte 71 (parameter 0's step count): expected a number >= 0, found -5", Refused(WithInt64(state, 71, -5)).Message);
        Assert.StartsWith("at byte 36 (learning rate): expected a finite number >= 0, found NaN",
            Refused(WithInt64(state, 36, BitConverter.DoubleToInt64Bits(double.NaN))).Message);
        var huge = (byte[])state.Clone();
        huge[0] = 0xFF; // the magic's length, 7-bit encoded: now it goes on
        Assert.StartsWith("at byte 0 (magic):", Refused(huge).Message);
        Assert.StartsWith("at byte 31 (optimizer name): the optimizer state is of adam, not of sgd",
            Refused(state, "sgd(lr=0.1, momentum=0.9)").Message);
    }

    [Fact]
    public void An_optimizer_state_cut_short_anywhere_is_refused_as_cut_short()
    {
        var state = AdamState();
        for (var length = 0; length < state.Length; length++)
        {
            var e = Refused(state[..length]);
            Assert.Contains("cut short", e.Message);
        }
    }

    [Fact]
    public void A_missing_moment_is_an_error_not_an_inexact_resume()
    {
        var state = AdamState();
        var missing = state[..125];
        missing[124] = 0; // exp_avg_sq: not saved
        Assert.StartsWith("at byte 124 (parameter 0's exp_avg_sq flag): parameter 0 has had 1 updates, so its exp_avg_sq must be saved, but it is missing",
            Refused(missing).Message);
        // Bytes after the state: not the state it claims to be.
        Assert.StartsWith("at byte 169 (end): expected the end of the state, but 3 more bytes follow", Refused([.. state, 1, 2, 3]).Message);
    }

    [Fact]
    public void Random_corruptions_of_optimizer_state_load_or_are_refused_and_never_half_load()
    {
        var state = AdamState();
        var random = new Random(7);
        using var w = Weights();
        using var target = Optimizer.Adam(lr: 0.01).Create([w]);
        var before = target.SaveState();
        for (var attempt = 0; attempt < 400; attempt++)
        {
            var bad = (byte[])state.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--) bad[random.Next(bad.Length)] = (byte)random.Next(256);
            try
            {
                target.LoadState(bad);
                target.LoadState(before); // back, for the next attempt
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("at byte ", e.Message);
                Assert.Equal(before, target.SaveState()); // nothing changed
            }
        }
    }
}
