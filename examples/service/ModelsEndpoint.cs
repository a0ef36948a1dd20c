using Functional.Hosting;

namespace Functional.Service;

/// <summary><c>GET /models</c>: every configured model, its state and what it takes and gives.</summary>
internal static class ModelsEndpoint
{
    public static IResult List(FunctionalModels models, GenerationCounters generations) => Results.Ok(new
    {
        models = models.All.Select(m => m.State == ModelState.Ready ? Describe(m) : new
        {
            name = m.Name,
            state = m.State.ToString().ToLowerInvariant(),
            error = m.Error,
        } as object),
        generations = new { running = generations.Running, tokens = generations.Tokens },
    });

    private static object Describe(ServedModel model)
    {
        var p = model.Predictor;
        return new
        {
            name = model.Name,
            state = "ready",
            network = p.Name,
            signature = p.Model.ToString(),
            classes = p.IsClassifier ? p.ClassNames : null,
            canGenerate = p.CanGenerate,
            checkpoint = p.CheckpointDirectory,
            reloads = model.Reloads,
            reloadError = model.ReloadError,
        };
    }
}
