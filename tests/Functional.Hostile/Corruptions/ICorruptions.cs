namespace Functional.Hostile.Corruptions;

/// <summary>One kind of hostile input: the systematic corruptions (every field, every listed way) and random ones.</summary>
internal interface ICorruptions
{
    /// <summary>The report's row: the file or input corrupted.</summary>
    string Kind { get; }

    /// <summary>Every corruption of the list, each written into a fresh attempt folder as it is enumerated.</summary>
    IEnumerable<Attempt> Systematic(Fixture fixture);

    /// <summary>One random corruption, written into a fresh attempt folder.</summary>
    Attempt Random(Fixture fixture, Random random);
}
