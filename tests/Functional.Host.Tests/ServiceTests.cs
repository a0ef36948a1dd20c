using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Functional.Generation;
using Functional.Host.Tests.Support;
using Functional.Serving;

namespace Functional.Host.Tests;

/// <summary>
/// examples/service started as its user starts it (its build output, a loopback port, models from the command line)
/// and called over a real socket.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    public ServiceProcess()
    {
        Files = new ServingCheckpoints();
        process = Start(Files,
            "--Functional:Models:clf:Source=" + Files.ClassifierSource,
            "--Functional:Models:clf:Checkpoint=" + Files.Classifier,
            "--Functional:Models:clf:ClassNames:0=red", "--Functional:Models:clf:ClassNames:1=green", "--Functional:Models:clf:ClassNames:2=blue",
            "--Functional:Models:lm:Source=" + Files.LanguageSource,
            "--Functional:Models:lm:Checkpoint=" + Files.Language,
            "--Functional:Models:lm:MaxPromptTokens=6",
            "--Functional:Models:lm:MaxNewTokens=100000",
            "--Service:MaxBodyBytes=4096");
        Client = new HttpClient { BaseAddress = new Uri(Address(process, log)), Timeout = TimeSpan.FromMinutes(2) };
        // Ready when /health says so (the models load in the background): at most 600 looks, 50 ms apart.
        for (var i = 0; i < 600 && Client.GetAsync("health").Result.StatusCode != HttpStatusCode.OK; i++) Thread.Sleep(50);
    }

    public ServingCheckpoints Files { get; }
    public HttpClient Client { get; }
    public string Log { get { lock (log) return log.ToString(); } }

    /// <summary>The service's build output started in the repository root with <paramref name="arguments"/>, listening on an ephemeral loopback port.</summary>
    public static Process Start(ServingCheckpoints files, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[Repository.OutputIn("examples", "service", "Functional.Service.dll"), "--urls", "http://127.0.0.1:0",
                     "--Functional:Models:fashion:Enabled=false", .. arguments])
            start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    /// <summary>The address the service says it listens on (its log's "Now listening on"), read from its output.</summary>
    public static string Address(Process process, StringBuilder log)
    {
        var found = new TaskCompletionSource<string>();
        void Line(string? line)
        {
            if (line is null) return;
            lock (log) log.AppendLine(line);
            if (Regex.Match(line, @"Now listening on: (http://127\.0\.0\.1:\d+)") is { Success: true } m) found.TrySetResult(m.Groups[1].Value + "/");
        }
        process.OutputDataReceived += (_, e) => Line(e.Data);
        process.ErrorDataReceived += (_, e) => Line(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.Exited += (_, _) => found.TrySetException(new InvalidOperationException("the service exited: " + log));
        process.EnableRaisingEvents = true;
        if (!found.Task.Wait(TimeSpan.FromMinutes(5))) throw new TimeoutException("the service did not start listening: " + log);
        return found.Task.Result;
    }

    public void Dispose()
    {
        Client.Dispose();
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
        Files.Dispose();
    }
}

public sealed class ServiceTests(ServiceProcess service) : IClassFixture<ServiceProcess>
{
    private HttpClient Http => service.Client;

    private async Task<(HttpStatusCode Status, string Type, JsonNode? Body)> Post(string path, string body)
    {
        using var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType ?? "", text.Length > 0 && text[0] is '{' ? JsonNode.Parse(text) : null);
    }

    private static string Json(float[] values) => "[" + string.Join(",", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";

    [Fact]
    public async Task Health_is_200_once_every_model_has_loaded()
    {
        using var health = await Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var models = JsonNode.Parse(await Http.GetStringAsync("models"))!["models"]!.AsArray();
        Assert.Equal(["clf", "lm"], models.Select(m => (string)m!["name"]!));
        Assert.All(models, m => Assert.Equal("ready", (string)m!["state"]!));
    }

    [Fact]
    public async Task Predict_answers_what_the_predictor_answers_with_the_top_class()
    {
        using var predictor = Predictor.Load(service.Files.ClassifierSource, service.Files.Classifier, new PredictorOptions { ClassNames = ["red", "green", "blue"] });
        var x = ServingCheckpoints.Example(3);
        var expected = predictor.Predict(x);
        var one = await Post("models/clf/predict", $$"""{"input": {{Json(x)}}}""");
        Assert.Equal(HttpStatusCode.OK, one.Status);
        Assert.Equal(expected, one.Body!["output"]!.AsArray().Select(v => (float)v!));
        var top = predictor.TopClass(expected)!;
        Assert.Equal((top.Name, top.Index), ((string)one.Body["className"]!, (int)one.Body["classIndex"]!));

        var y = ServingCheckpoints.Example(4);
        var several = await Post("models/clf/predict", $$"""{"inputs": [{{Json(x)}}, {{Json(y)}}]}""");
        Assert.Equal(HttpStatusCode.OK, several.Status);
        var outputs = several.Body!["outputs"]!.AsArray();
        Assert.Equal(2, outputs.Count);
        var both = predictor.Predict([x, y]);
        for (var j = 0; j < 3; j++) Assert.Equal(both[1][j], (float)outputs[1]!["output"]![j]!, 5);
    }

    [Theory]
    [InlineData("models/clf/predict", "{\"input\": [1, 2", HttpStatusCode.BadRequest, "the body is not valid JSON")]
    [InlineData("models/clf/predict", "[1, 2]", HttpStatusCode.BadRequest, "the body is a JSON array; expected an object")]
    [InlineData("models/clf/predict", "{\"values\": [1]}", HttpStatusCode.BadRequest, "the body has no 'input'")]
    [InlineData("models/clf/predict", "{\"input\": [1, 2, 3]}", HttpStatusCode.BadRequest, "example 1's input has 3 values, but Clf's input [6] takes 6")]
    [InlineData("models/clf/predict", "{\"inputs\": [[1, 2, 3, 4, 5, 6], [1]]}", HttpStatusCode.BadRequest, "example 2's input has 1 values")]
    [InlineData("models/clf/predict", "{\"input\": [1, 2, \"three\", 4, 5, 6]}", HttpStatusCode.BadRequest, "'input[2]' is a JSON string; expected a number")]
    [InlineData("models/clf/predict", "{\"input\": [1, 2, \"NaN\", 4, 5, 6]}", HttpStatusCode.BadRequest, "example 1's input holds NaN at position 3; only finite numbers can be used")]
    [InlineData("models/lm/predict", "{\"input\": [1, 2, 12]}", HttpStatusCode.BadRequest, "example 1's input holds 12, but Lm takes token ids (whole numbers from 0 to 11)")]
    [InlineData("models/lm/generate", "{\"prompt\": \"abcdefgh\", \"tokens\": 5}", HttpStatusCode.BadRequest, "the prompt is 8 tokens long; at most 6 are allowed")]
    [InlineData("models/lm/generate", "{\"prompt\": \"ab\", \"tokens\": 200000}", HttpStatusCode.BadRequest, "200000 new tokens were asked for; at most 100000 are allowed")]
    [InlineData("models/lm/generate", "{\"prompt\": \"ab\", \"temperature\": -1}", HttpStatusCode.BadRequest, "'temperature': the temperature must be a finite number of at least 0")]
    [InlineData("models/lm/generate", "{\"prompt\": 5}", HttpStatusCode.BadRequest, "'prompt' is 5; expected a string")]
    [InlineData("models/clf/generate", "{\"prompt\": \"ab\"}", HttpStatusCode.BadRequest, "Clf cannot generate text")]
    [InlineData("models/nope/predict", "{\"input\": [1]}", HttpStatusCode.NotFound, "there is no model 'nope'; the models are clf, lm")]
    public async Task A_bad_request_is_a_problem_saying_what_was_wrong_and_the_service_serves_on(string path, string body, HttpStatusCode status, string detail)
    {
        var answer = await Post(path, body);
        Assert.Equal(status, answer.Status);
        Assert.Equal("application/problem+json", answer.Type);
        Assert.StartsWith(detail, (string)answer.Body!["detail"]!);
        Assert.Equal((int)status, (int)answer.Body["status"]!);
        Assert.Equal(HttpStatusCode.OK, (await Post("models/clf/predict", $$"""{"input": {{Json(ServingCheckpoints.Example(0))}}}""")).Status);
    }

    [Fact]
    public async Task An_oversized_body_is_413_and_the_service_serves_on()
    {
        var big = $$"""{"input": [{{string.Join(",", Enumerable.Repeat("0.5", 4000))}}]}""";
        var answer = await Post("models/clf/predict", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.Status);
        Assert.Equal("the request body is larger than 4096 bytes", (string)answer.Body!["detail"]!);
        Assert.Equal(HttpStatusCode.OK, (await Post("models/clf/predict", $$"""{"input": {{Json(ServingCheckpoints.Example(0))}}}""")).Status);
    }

    [Fact]
    public async Task Generate_streams_the_text_the_predictor_generates_as_server_sent_events()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "models/lm/generate")
        {
            Content = new StringContent("""{"prompt": "ab", "tokens": 12, "temperature": 0.7, "seed": 5}""", Encoding.UTF8, "application/json"),
        };
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var text = string.Concat(events.Where(e => e.StartsWith("data: ")).Select(e => (string)JsonNode.Parse(e["data: ".Length..])!["text"]!));
        using var predictor = Predictor.Load(service.Files.LanguageSource, service.Files.Language);
        var expected = string.Concat(predictor.Generate("ab", new GenerationOptions { MaxTokens = 12, Temperature = 0.7, Seed = 5 }).ToBlockingEnumerable());
        Assert.Equal(expected, text);
        var done = JsonNode.Parse(events[^1].Split('\n')[1]["data: ".Length..])!;
        Assert.StartsWith("event: done", events[^1]);
        Assert.Equal((2, 12, 5), ((int)done["promptTokens"]!, (int)done["tokens"]!, (int)done["seed"]!));
    }

    [Fact]
    public async Task A_client_that_goes_away_stops_its_generation()
    {
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "models/lm/generate")
        {
            Content = new StringContent("""{"prompt": "ab", "tokens": 100000, "seed": 1}""", Encoding.UTF8, "application/json"),
        };
        var before = (long)JsonNode.Parse(await Http.GetStringAsync("models"))!["generations"]!["tokens"]!;
        using (var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token))
        {
            using var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
            var first = new byte[8];
            Assert.True(await stream.ReadAsync(first, cancel.Token) > 0);
            cancel.Cancel();
        }
        JsonNode? generations = null;
        for (var i = 0; i < 600; i++)
        {
            generations = JsonNode.Parse(await Http.GetStringAsync("models"))!["generations"];
            if ((int)generations!["running"]! == 0) break;
            await Task.Delay(50);
        }
        Assert.Equal(0, (int)generations!["running"]!);
        var produced = (long)generations["tokens"]! - before;
        Assert.InRange(produced, 1, 99_999);
        Assert.Contains("A generation was stopped by its client", service.Log);
    }
}

/// <summary>A service whose model cannot load answers 503 on /health and on the model's endpoints.</summary>
public sealed class ServiceFailureTests : IClassFixture<ServingCheckpoints>
{
    private readonly ServingCheckpoints files;

    public ServiceFailureTests(ServingCheckpoints files) => this.files = files;

    [Fact]
    public async Task A_model_that_cannot_load_makes_health_503_and_its_calls_503()
    {
        using var process = ServiceProcess.Start(files,
            "--Functional:Models:broken:Source=" + files.ClassifierSource,
            "--Functional:Models:broken:Checkpoint=" + Path.Combine(files.Directory, "no-such-checkpoint"));
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(ServiceProcess.Address(process, new StringBuilder())) };
            JsonNode? model = null;
            for (var i = 0; i < 600; i++)
            {
                model = JsonNode.Parse(await http.GetStringAsync("models"))!["models"]![0];
                if ((string)model!["state"]! != "loading") break;
                await Task.Delay(50);
            }
            Assert.Equal("failed", (string)model!["state"]!);
            using var health = await http.GetAsync("health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            using var predict = await http.PostAsJsonAsync("models/broken/predict", new { input = new[] { 1f } });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, predict.StatusCode);
            Assert.Contains("could not be loaded", (string)JsonNode.Parse(await predict.Content.ReadAsStringAsync())!["detail"]!);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }
}
