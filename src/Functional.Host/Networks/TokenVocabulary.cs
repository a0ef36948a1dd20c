using Functional.Lang;
using Functional.Lang.Checking;
using Functional.Lang.Compilation;
using Functional.Text;

namespace Functional.Networks;

/// <summary>
/// The one rule for how many token ids a model takes: the vocabulary of its first <c>embed</c> (parents first: the
/// one its input meets). Batches check ids against it, and a tokenizer must fit in it.
/// </summary>
internal static class TokenVocabulary
{
    /// <summary>The model's first <c>embed</c> node and its vocabulary, or null when it has none.</summary>
    public static (Node Node, int Vocabulary)? FirstEmbed(CompiledModel module) =>
        NodeModule.walk(module.Model.Body)
            .Select(n => n.Op is Op.Primitive p
                ? (Node: n, Settings: Lang.Layers.PrimitiveModule.settingsOf(Lang.Layers.Embed.definition, p.Item))
                : (Node: n, Settings: null))
            .Where(e => e.Settings is not null)
            .Select(e => ((Node, int)?)(e.Node, e.Settings!.Value.Vocabulary))
            .FirstOrDefault();

    /// <summary>The vocabulary of the model's first embedding, if it has one.</summary>
    public static long? Of(CompiledModel module) => FirstEmbed(module)?.Vocabulary;

    /// <summary>Throws unless every id of <paramref name="tokenizer"/> is one the model's first <c>embed</c> holds.</summary>
    /// <exception cref="FnnCompileException">the vocabulary is larger than the embedding's, or the model has no
    /// <c>embed</c>; the diagnostic points at the <c>embed</c> (or the model) in the source</exception>
    public static void RequireFits(Tokenizer tokenizer, CompiledModel module, FnnFile source)
    {
        var model = module.Model;
        if (FirstEmbed(module) is not { } embed)
            throw Error(source, model.Range,
                $"model {model.Name} takes no token ids (it has no embed layer), so it cannot use the {tokenizer.Kind} tokenizer; " +
                "give it an input of token ids, such as [seq] int -> ... = embed vocab dim >> ...");
        if (tokenizer.VocabularySize > embed.Vocabulary)
            throw Error(source, embed.Node.Range,
                $"the {tokenizer.Kind} tokenizer has {tokenizer.VocabularySize} tokens but {embed.Node.Name} holds {embed.Vocabulary}; " +
                $"make embed's vocabulary at least {tokenizer.VocabularySize}");
    }

    private static FnnCompileException Error(FnnFile source, Lang.Syntax.Range range, string message)
    {
        var diagnostic = DiagnosticModule.error(range, message);
        var diagnostics = Microsoft.FSharp.Collections.ListModule.Singleton(diagnostic);
        // The source's own text renders the caret; an imported file is read again (or shown without its line).
        var sources = new Dictionary<string, string> { [source.Path] = source.SourceText };
        if (range.File != source.Path && Language.readSource(range.File) is { IsOk: true } imported)
            sources[range.File] = imported.ResultValue;
        return new FnnCompileException(Language.renderWith(sources, diagnostics), diagnostics);
    }
}
