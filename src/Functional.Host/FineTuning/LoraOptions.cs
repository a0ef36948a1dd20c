namespace Functional.FineTuning;

/// <summary>
/// LoRA adapters, with Hugging Face PEFT's settings and defaults: beside each projection a target pattern matches
/// (a <c>dense</c> layer's <c>weight</c>, an <c>attention</c>'s <c>query.weight</c>, <c>key.weight</c>,
/// <c>value.weight</c>, <c>output.weight</c>), two trained matrices A [rank; in] and B [out; rank] add
/// (alpha / rank) · dropout(x) Aᵀ Bᵀ. The base's own parameters are frozen while adapters train.
/// </summary>
public sealed record LoraOptions
{
    /// <summary>PEFT's <c>r</c>: the adapters' rank (default 8).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>PEFT's <c>lora_alpha</c> (default 8): the adapters' output is scaled by alpha / rank.</summary>
    public double Alpha { get; init; } = 8;

    /// <summary>PEFT's <c>lora_dropout</c> (default 0): dropout on the adapters' input while training.</summary>
    public double Dropout { get; init; }

    /// <summary>PEFT's <c>target_modules</c>, as globs over the projections' weight paths (<c>*.query.weight</c>,
    /// <c>head.weight</c>, <c>*</c> for every projection). Required; one that matches none is an error naming it.</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>Throws unless every setting is in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a setting out of range, named by its property</exception>
    /// <exception cref="ArgumentException">no targets</exception>
    public void Validate()
    {
        if (Rank is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, "LoRA's rank must be from 1 to 4096");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LoRA's alpha must be a positive finite number");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "LoRA's dropout must be at least 0 and below 1");
        if (Targets is null || Targets.Count == 0)
            throw new ArgumentException("LoRA needs target patterns: the projections to adapt, such as *.query.weight or head.weight", nameof(Targets));
    }

    /// <summary>
    /// Reads settings written as <c>rank=8, alpha=16, dropout=0.05</c> (any of them, in any order; PEFT's names
    /// <c>r</c> and <c>lora_alpha</c>, <c>lora_dropout</c> are read too), with <paramref name="targets"/> as the targets.
    /// </summary>
    /// <exception cref="FormatException">a part that is not name=number, an unknown name, or one given twice</exception>
    /// <exception cref="ArgumentOutOfRangeException">a value out of range (<see cref="Validate"/>)</exception>
    public static LoraOptions Parse(string text, IReadOnlyList<string> targets)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(targets);
        var options = new LoraOptions { Targets = targets };
        var seen = new HashSet<string>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = raw.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[1].Length == 0)
                throw new FormatException($"'{Excerpt.@short(raw)}': expected name=value, as in \"rank=8, alpha=16, dropout=0.05\"");
            var name = parts[0] switch { "r" => "rank", "lora_alpha" => "alpha", "lora_dropout" => "dropout", var n => n };
            if (!seen.Add(name)) throw new FormatException($"'{name}' is given twice");
            if (!double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
                throw new FormatException($"{name}={Excerpt.@short(parts[1])}: expected a number");
            options = name switch
            {
                "rank" when value == Math.Floor(value) && Math.Abs(value) <= int.MaxValue => options with { Rank = (int)value },
                "rank" => throw new FormatException($"rank={Excerpt.@short(parts[1])}: expected a whole number"),
                "alpha" => options with { Alpha = value },
                "dropout" => options with { Dropout = value },
                _ => throw new FormatException($"'{Excerpt.@short(parts[0])}' is not a LoRA setting: expected rank, alpha or dropout"),
            };
        }
        options.Validate();
        return options;
    }

    /// <summary>PEFT's way of writing the settings: <c>r=8, alpha=16, dropout=0.05</c>.</summary>
    public override string ToString() =>
        FormattableString.Invariant($"rank={Rank}, alpha={Alpha}, dropout={Dropout} on {string.Join(", ", Targets)}");
}
