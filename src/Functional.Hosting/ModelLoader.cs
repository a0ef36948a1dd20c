using Functional.Checkpoints;
using Functional.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Functional.Hosting;

/// <summary>
/// Loads every served model in the background once the host has started (the service answers at once; the health
/// check says 503 until every model is ready), then looks at each checkpoint folder every
/// <see cref="FunctionalModelOptions.ReloadPollSeconds"/> and, when its files have been replaced and have stayed
/// unchanged for one more look (so that a copy in progress is not read), loads them and swaps them in. A reload
/// that fails is logged and the model answers on with the weights it had. Stopping the host frees every model.
/// </summary>
public sealed class ModelLoader(FunctionalModels models, ILogger<ModelLoader> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var watched = new List<Watch>();
        foreach (var model in models.All)
        {
            if (stoppingToken.IsCancellationRequested) return;
            var predictor = await Task.Run(() => Load(model, stoppingToken), stoppingToken).ConfigureAwait(false);
            if (predictor is null) continue;
            model.Swap(predictor);
            if (model.Settings.ReloadOnChange) watched.Add(new Watch(model, predictor.Stamp));
        }
        if (watched.Count == 0) return;
        var interval = TimeSpan.FromSeconds(watched.Min(w => w.Model.Settings.ReloadPollSeconds));
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                foreach (var watch in watched)
                    await Look(watch, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var model in models.All) model.Close();
    }

    private async Task Look(Watch watch, CancellationToken stoppingToken)
    {
        var now = CheckpointStamp.Read(watch.Model.Settings.Checkpoint!);
        if (now is null || now == watch.Loaded) { watch.Seen = null; return; }
        // Changed: load once the files have stayed as they are for one more look.
        if (now != watch.Seen) { watch.Seen = now; return; }
        watch.Seen = null;
        logger.LogInformation("Model {Model}: {Checkpoint} was replaced; loading it", watch.Model.Name, now.Folder);
        var predictor = await Task.Run(() => Load(watch.Model, stoppingToken), stoppingToken).ConfigureAwait(false);
        // A failed reload is not tried again until the files change again.
        watch.Loaded = predictor?.Stamp ?? now;
        if (predictor is not null) watch.Model.Swap(predictor);
    }

    private Predictor? Load(ServedModel model, CancellationToken stoppingToken)
    {
        var settings = model.Settings;
        try
        {
            var options = settings.ToPredictorOptions(model.Name);
            var started = System.Diagnostics.Stopwatch.StartNew();
            var predictor = settings.Source is { } source
                ? Predictor.Load(source, settings.Checkpoint!, options, stoppingToken)
                : Predictor.Load(settings.Checkpoint!, options, stoppingToken);
            foreach (var warning in predictor.Warnings)
                logger.LogWarning("Model {Model}: {Warning}", model.Name, warning);
            logger.LogInformation("Model {Model}: loaded {Network} {Signature} from {Checkpoint} in {Milliseconds} ms",
                model.Name, predictor.Name, predictor.Model.ToString(), predictor.CheckpointDirectory, started.ElapsedMilliseconds);
            return predictor;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var what = model.State == ModelState.Ready ? "reloading" : "loading";
            logger.LogError("Model {Model}: {What} failed: {Reason}", model.Name, what, e.Message);
            model.Failed(e.Message);
            return null;
        }
    }

    private sealed class Watch(ServedModel model, CheckpointStamp? loaded)
    {
        public ServedModel Model { get; } = model;
        public CheckpointStamp? Loaded { get; set; } = loaded;
        public CheckpointStamp? Seen { get; set; }
    }
}
