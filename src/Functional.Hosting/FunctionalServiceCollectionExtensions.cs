using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Functional.Hosting;

/// <summary>Registers served Functional models with a service collection.</summary>
public static class FunctionalServiceCollectionExtensions
{
    /// <summary>The configuration section that lists the models: <c>Functional:Models:{name}</c>.</summary>
    public const string ModelsSection = "Functional:Models";

    /// <summary>
    /// Serves the model called <paramref name="name"/>: its settings are bound from configuration section
    /// <c>Functional:Models:{name}</c>, then <paramref name="configure"/> runs on them. Adds <see cref="FunctionalModels"/>
    /// (a singleton) and <see cref="ModelLoader"/> (a hosted service that loads the models in the background).
    /// </summary>
    /// <exception cref="ArgumentException">the name is empty, or already registered</exception>
    public static IServiceCollection AddFunctionalModel(this IServiceCollection services, string name,
        Action<FunctionalModelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var names = Names(services);
        if (names.Contains(name)) throw new ArgumentException($"the model '{name}' is registered twice", nameof(name));
        names.Add(name);
        var builder = services.AddOptions<FunctionalModelOptions>(name).BindConfiguration($"{ModelsSection}:{name}");
        if (configure is not null) builder.Configure(configure);
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptionsMonitor<FunctionalModelOptions>>();
            var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger<ServedModel>();
            return new FunctionalModels(Names(services).Select(n => new ServedModel(n, options.Get(n), logger)).ToList());
        });
        services.AddHostedService<ModelLoader>();
        return services;
    }

    /// <summary>Serves every model listed under <c>Functional:Models</c> in <paramref name="configuration"/> (each child
    /// section's key is a name), as <see cref="AddFunctionalModel"/> does, except those whose <c>Enabled</c> is false.</summary>
    public static IServiceCollection AddFunctionalModels(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var section in configuration.GetSection(ModelsSection).GetChildren())
            if (section[nameof(FunctionalModelOptions.Enabled)] is not { } enabled || !bool.TryParse(enabled, out var on) || on)
                services.AddFunctionalModel(section.Key);
        return services;
    }

    /// <summary>Adds <see cref="ModelsHealthCheck"/>: healthy once every served model has loaded.</summary>
    public static IHealthChecksBuilder AddFunctionalModels(this IHealthChecksBuilder builder, string name = "functional-models",
        IEnumerable<string>? tags = null) =>
        builder.AddCheck<ModelsHealthCheck>(name, HealthStatus.Unhealthy, tags ?? []);

    /// <summary>The names registered so far, kept in the collection itself (one list per collection, no global).</summary>
    private static List<string> Names(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(ModelNames))?.ImplementationInstance is ModelNames known)
            return known.Names;
        var names = new ModelNames();
        services.AddSingleton(names);
        return names.Names;
    }

    private sealed class ModelNames
    {
        public List<string> Names { get; } = [];
    }
}
