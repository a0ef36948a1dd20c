using System.Text.Json;
using Functional.Generation;
using Functional.Hosting;

namespace Functional.Service;

/// <summary>
/// <c>POST /models/{name}/generate</c> with <c>{"prompt": "...", "tokens": N, "temperature": T, "seed": S}</c>
/// (and optionally <c>topK</c>, <c>topP</c>, <c>stop</c>): the continuation as server-sent events, one
/// <c>data: {"text": "..."}</c> per piece, then <c>event: done</c> with what happened. Everything is checked before the
/// stream starts (a 4xx problem otherwise); a client that goes away stops the generation at the next token.
/// </summary>
internal static class GenerateEndpoint
{
    public static async Task<IResult> Handle(string name, HttpContext context, FunctionalModels models,
        GenerationCounters counters, ILogger<GenerationCounters> logger)
    {
        if (models.Find(name) is not { } model) return Problems.UnknownModel(models, name);
        var cancellation = context.RequestAborted;
        GenerationRun run;
        try
        {
            var body = await RequestBody.ReadObjectAsync(context.Request, cancellation);
            var options = new GenerationOptions
            {
                MaxTokens = RequestBody.Integer(body, "tokens") ?? 100,
                Temperature = RequestBody.Number(body, "temperature") ?? 1.0,
                TopK = RequestBody.Integer(body, "topK"),
                TopP = RequestBody.Number(body, "topP"),
                Stop = RequestBody.Texts(body, "stop") ?? [],
                Seed = RequestBody.Integer(body, "seed"),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new RequestFormatException($"'{Field(e.ParamName)}': {e.Message.Split(" (Parameter")[0]}");
            }
            run = model.Generate(RequestBody.Text(body, "prompt", required: true)!, options);
        }
        catch (InvalidOperationException e) when (e is not ModelNotReadyException)
        {
            return Problems.BadRequest(e.Message);
        }
        catch (Exception e) when (Problems.For(e, context) is { } problem)
        {
            return problem;
        }
        return new EventStream(run, counters, logger);
    }

    private static string Field(string? property) => property switch
    {
        nameof(GenerationOptions.MaxTokens) => "tokens",
        nameof(GenerationOptions.Temperature) => "temperature",
        nameof(GenerationOptions.TopK) => "topK",
        nameof(GenerationOptions.TopP) => "topP",
        _ => "stop",
    };

    /// <summary>The run written as server-sent events as it is enumerated.</summary>
    private sealed class EventStream(GenerationRun run, GenerationCounters counters, ILogger logger) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            var cancellation = context.RequestAborted;
            counters.Started();
            try
            {
                await foreach (var piece in run.WithCancellation(cancellation))
                    await Write(response, null, new { text = piece }, cancellation);
                await Write(response, "done", new
                {
                    promptTokens = run.PromptTokens,
                    tokens = run.GeneratedTokens,
                    seed = run.Seed,
                    end = run.End == GenerationEnd.StopText ? "stop" : "tokens",
                }, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                logger.LogInformation("A generation was stopped by its client after {Tokens} tokens", run.GeneratedTokens);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                await Write(response, "error", new { detail = e.Message }, CancellationToken.None);
            }
            finally
            {
                counters.Ended(run.GeneratedTokens);
            }
        }

        private static async Task Write(HttpResponse response, string? name, object data, CancellationToken cancellation)
        {
            var text = (name is null ? "" : $"event: {name}\n") + $"data: {JsonSerializer.Serialize(data)}\n\n";
            await response.WriteAsync(text, cancellation);
            await response.Body.FlushAsync(cancellation);
        }
    }
}
