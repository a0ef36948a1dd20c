using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Functional.Hosting;

/// <summary>
/// Healthy when every served model has loaded; unhealthy (503 from ASP.NET Core's health endpoint) while one is
/// loading or has failed to load; degraded (still 200) when a reload failed and a model answers with the weights it
/// had. The data holds each model's state.
/// </summary>
public sealed class ModelsHealthCheck(FunctionalModels models) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var problems = new List<string>();
        var stale = new List<string>();
        foreach (var model in models.All)
        {
            data[model.Name] = model.State.ToString().ToLowerInvariant();
            if (model.State != ModelState.Ready)
                problems.Add(model.State == ModelState.Loading ? $"{model.Name} is loading" : $"{model.Name} failed: {model.Error}");
            else if (model.ReloadError is { } reload)
                stale.Add($"{model.Name} could not reload ({reload}) and serves its previous weights");
        }
        var result = problems.Count > 0
            ? HealthCheckResult.Unhealthy(string.Join("; ", problems), data: data)
            : stale.Count > 0
                ? HealthCheckResult.Degraded(string.Join("; ", stale), data: data)
                : HealthCheckResult.Healthy(models.All.Count == 0 ? "no models are configured" : $"{models.All.Count} model(s) loaded", data);
        return Task.FromResult(result);
    }
}
