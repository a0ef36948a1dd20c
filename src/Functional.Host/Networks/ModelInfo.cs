using Functional.Lang.Checking;

namespace Functional.Networks;

/// <summary>A checked model as C# sees it: its name, documentation, shapes, hyperparameters and parameters.</summary>
public sealed record ModelInfo
{
    /// <summary>The model's name, as declared (<c>model Xor : ...</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Its documentation comment (<c>/// ...</c> above the declaration), or null.</summary>
    public string? Doc { get; init; }

    /// <summary>The shape of one input example (the batch dimension is implicit).</summary>
    public required ShapeInfo Input { get; init; }

    /// <summary>The shape of one output example.</summary>
    public required ShapeInfo Output { get; init; }

    /// <summary>Every hyperparameter with its value as text (<c>hidden</c> = <c>8</c>), in declaration order.</summary>
    public required IReadOnlyDictionary<string, string> Hyperparameters { get; init; }

    /// <summary>Every parameter tensor, in registration order: the checkpoint's keys.</summary>
    public required IReadOnlyList<ParameterInfo> Parameters { get; init; }

    /// <summary>The model's signature, as the source writes it: <c>Xor [2] -> [1]</c>.</summary>
    public override string ToString() => $"{Name} {Input} -> {Output}";

    internal static ModelInfo From(Model model, IReadOnlyList<ParameterInfo> parameters) => new()
    {
        Name = model.Name,
        Doc = Microsoft.FSharp.Core.OptionModule.ToObj(model.Doc),
        Input = ShapeInfo.From(model.Input),
        Output = ShapeInfo.From(model.Output),
        Hyperparameters = new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(
            new OrderedDictionary<string, string>(model.Hyperparameters.Select(h => KeyValuePair.Create(h.Item1, h.Item2)))),
        Parameters = parameters,
    };
}

/// <summary>
/// The shape of one example, as the source writes it: each dimension a size (<c>"128"</c>) or the name of a
/// symbolic one (<c>"seq"</c>); <see cref="Tokens"/> marks integer token ids (<c>[context] int</c>).
/// </summary>
/// <param name="Dims">the dimensions, outermost first</param>
/// <param name="Tokens">the values are token ids, not real numbers</param>
public sealed record ShapeInfo(IReadOnlyList<string> Dims, bool Tokens)
{
    /// <summary>The shape as the source writes it: <c>[2; 4]</c>, <c>[seq; vocab]</c>, <c>[context] int</c>.</summary>
    public override string ToString() => $"[{string.Join("; ", Dims)}]{(Tokens ? " int" : "")}";

    internal static ShapeInfo From(Shape shape) => new(shape.Dims.Select(d => d.ToString()).ToList(), shape.Tokens);
}

/// <summary>One parameter tensor of a model.</summary>
/// <param name="Path">its path, the checkpoint's key (<c>0.weight</c>, <c>w1</c>)</param>
/// <param name="Shape">its sizes</param>
/// <param name="Trainable">whether training changes it</param>
public sealed record ParameterInfo(string Path, IReadOnlyList<long> Shape, bool Trainable);
