using Functional.Lang.Checking;
using Functional.Lang.Compilation;

namespace Functional.Networks;

/// <summary>How many tokens a language model reads at once, for cutting a text into windows.</summary>
internal static class TokenContext
{
    /// <summary>The model's input length when its input is <c>[n] int</c> with n a number; else the longest sequence its
    /// <c>positional</c> or <c>sinusoidal</c> layers cover; else null.</summary>
    public static int? Of(CompiledModel module)
    {
        var input = module.Model.Input;
        if (input.Dims is { Length: 1 } dims && dims.Head is Dim.Known { Item: var n }) return n;
        var lengths = NodeModule.walk(module.Model.Body)
            .Select(node => node.Op is Op.Primitive p
                ? Lang.Layers.PrimitiveModule.settingsOf(Lang.Layers.Positional.definition, p.Item) is { } positional ? positional.Value.Length
                : Lang.Layers.PrimitiveModule.settingsOf(Lang.Layers.Sinusoidal.definition, p.Item) is { } sinusoidal ? sinusoidal.Value.Length
                : 0
                : 0)
            .Where(n => n > 0)
            .ToList();
        return lengths.Count > 0 ? lengths.Max() : null;
    }
}
