namespace Functional.Hosting;

/// <summary>
/// The models a service serves, by name (registered with <see cref="FunctionalServiceCollectionExtensions.AddFunctionalModel"/>
/// or <see cref="FunctionalServiceCollectionExtensions.AddFunctionalModels(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>);
/// a singleton. <see cref="ModelLoader"/> loads them in the background at start-up and reloads replaced checkpoints.
/// </summary>
public sealed class FunctionalModels
{
    private readonly Dictionary<string, ServedModel> models;

    internal FunctionalModels(IEnumerable<ServedModel> models) =>
        this.models = models.ToDictionary(m => m.Name, StringComparer.Ordinal);

    /// <summary>Every model, in the order they were registered.</summary>
    public IReadOnlyCollection<ServedModel> All => models.Values;

    /// <summary>The model called <paramref name="name"/> (names are case-sensitive), or null.</summary>
    public ServedModel? Find(string name) => models.GetValueOrDefault(name);

    /// <summary>The model called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">no model has that name; the message lists those that do</exception>
    public ServedModel this[string name] => Find(name)
        ?? throw new KeyNotFoundException($"there is no model '{Excerpt.@short(name)}'; the models are {string.Join(", ", models.Keys)}");
}
