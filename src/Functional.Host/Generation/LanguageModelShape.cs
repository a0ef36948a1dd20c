using Functional.Lang;
using Functional.Lang.Checking;

namespace Functional.Generation;

/// <summary>What generation needs to know of a model, from <c>LanguageModel.describe</c> in the language.</summary>
internal sealed record LanguageModelShape(int Vocabulary, int? Context, string? CacheUnavailableReason)
{
    public bool CanCache => CacheUnavailableReason is null;

    /// <exception cref="ArgumentException">the model is not a language model</exception>
    public static LanguageModelShape Of(Model model)
    {
        var described = LanguageModel.describe(model);
        if (described.IsError) throw new ArgumentException(described.ErrorValue);
        var d = described.ResultValue;
        return new LanguageModelShape(d.Vocabulary, d.Context?.Value, d.Cache.IsError ? d.Cache.ErrorValue : null);
    }
}
