using Functional.Generation;
using Functional.Hosting;
using Functional.Networks;
using Functional.Serving;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Functional.Host.Tests;

/// <summary>Served models in a generic host: configuration, health, and a checkpoint replaced under load.</summary>
public sealed class HostingTests(ServingCheckpoints files) : IClassFixture<ServingCheckpoints>
{
    private static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLogging();
        builder.Services.AddFunctionalModels(builder.Configuration);
        builder.Services.AddHealthChecks().AddFunctionalModels();
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    private static async Task<HealthReport> Health(IHost host) =>
        await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    /// <summary>Polls (at most 600 times, 50 ms apart) until <paramref name="done"/> holds.</summary>
    private static async Task Until(Func<bool> done)
    {
        for (var i = 0; i < 600 && !done(); i++) await Task.Delay(50);
        Assert.True(done());
    }

    [Fact]
    public void Settings_come_from_configuration_then_from_code()
    {
        var services = new ServiceCollection();
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Functional:Models:a:Checkpoint"] = "runs/a",
            ["Functional:Models:a:Batching:Enabled"] = "true",
            ["Functional:Models:a:ClassNames:0"] = "x",
            ["Functional:Models:a:ClassNames:1"] = "y",
            ["Functional:Models:b:Checkpoint"] = "runs/b",
            ["Functional:Models:off:Checkpoint"] = "runs/off",
            ["Functional:Models:off:Enabled"] = "false",
        }).Build();
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(configuration);
        services.AddLogging();
        services.AddFunctionalModels(configuration);
        services.AddFunctionalModel("c", o => o.Checkpoint = "runs/c");
        services.Configure<FunctionalModelOptions>("a", o => o.MaxConcurrentCalls = 2);
        Assert.Throws<ArgumentException>(() => services.AddFunctionalModel("a"));
        using var provider = services.BuildServiceProvider();
        var a = provider.GetRequiredService<IOptionsMonitor<FunctionalModelOptions>>().Get("a");
        Assert.Equal(("runs/a", true, 2), (a.Checkpoint, a.Batching.Enabled, a.MaxConcurrentCalls));
        Assert.Equal(["x", "y"], a.ClassNames);
        var models = provider.GetRequiredService<FunctionalModels>();
        Assert.Equal("runs/c", provider.GetRequiredService<IOptionsMonitor<FunctionalModelOptions>>().Get("c").Checkpoint);
        Assert.Equal(["a", "b", "c"], models.All.Select(m => m.Name));
        Assert.All(models.All, m => Assert.Equal(ModelState.Loading, m.State));
        Assert.Contains("the models are a, b, c", Assert.Throws<KeyNotFoundException>(() => models["off"]).Message);
        Assert.Throws<ModelNotReadyException>(() => models["a"].Predictor);
    }

    [Theory]
    [InlineData("Checkpoint", "", "Functional:Models:m:Checkpoint is not set")]
    [InlineData("Device", "tpu", "Functional:Models:m:Device: unknown device 'tpu'")]
    [InlineData("Batching:WindowMilliseconds", "0", "Functional:Models:m:Batching:WindowMilliseconds: the batching window must be above 0")]
    [InlineData("MaxConcurrentCalls", "0", "Functional:Models:m:MaxConcurrentCalls: at least 1 call")]
    public async Task A_bad_setting_fails_the_model_with_its_key_and_the_health_check_says_so(string key, string value, string message)
    {
        using var host = Build(new()
        {
            ["Functional:Models:m:Source"] = files.ClassifierSource,
            ["Functional:Models:m:Checkpoint"] = files.Classifier,
            [$"Functional:Models:m:{key}"] = value,
        });
        await host.StartAsync();
        var model = host.Services.GetRequiredService<FunctionalModels>()["m"];
        await Until(() => model.State != ModelState.Loading);
        Assert.Equal(ModelState.Failed, model.State);
        Assert.StartsWith(message, model.Error);
        var health = await Health(host);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains(message, health.Entries["functional-models"].Description);
        await host.StopAsync();
    }

    [Fact]
    public async Task Named_models_load_side_by_side_and_the_host_is_healthy()
    {
        using var host = Build(new()
        {
            ["Functional:Models:clf:Source"] = files.ClassifierSource,
            ["Functional:Models:clf:Checkpoint"] = files.Classifier,
            ["Functional:Models:lm:Checkpoint"] = files.Language, // its source found beside the checkpoint
        });
        await host.StartAsync();
        var models = host.Services.GetRequiredService<FunctionalModels>();
        await Until(() => models.All.All(m => m.State != ModelState.Loading));
        Assert.Equal(HealthStatus.Healthy, (await Health(host)).Status);
        using var clf = Predictor.Load(files.ClassifierSource, files.Classifier);
        Assert.Equal(clf.Predict(ServingCheckpoints.Example(1)), (await models["clf"].PredictAsync([ServingCheckpoints.Example(1)]))[0]);
        Assert.True(models["lm"].Predictor.CanGenerate);
        await host.StopAsync();
        Assert.Throws<ModelNotReadyException>(() => models["clf"].Predictor);
    }

    [Fact]
    public async Task A_replaced_checkpoint_is_swapped_in_and_a_call_in_flight_finishes_on_the_old_weights()
    {
        await Reloading(files.LanguageSource, files.Language, async (host, model, checkpoint, directory) =>
        {
            var before = model.Predictor.Predict([1, 2, 3]);
            var options = new GenerationOptions { MaxTokens = 40, Seed = 2 };
            var expected = model.Predictor.Generate("ab", options);
            var expectedText = string.Concat(expected.ToBlockingEnumerable());

            // A generation under way on the old weights...
            var run = model.Generate("ab", options);
            await using var pieces = run.GetAsyncEnumerator();
            Assert.True(await pieces.MoveNextAsync());
            var text = pieces.Current;

            // ...while a deployment renames other weights into place.
            var other = Path.Combine(directory, "other");
            using (var network = FnnFile.Load(files.LanguageSource).Compile(options: new NetworkOptions { Seed = 99 }))
            {
                network.Tokenizer = Text.Tokenizer.Characters("abcdefgh ");
                network.Save(other);
            }
            Directory.Move(checkpoint, checkpoint + ".old");
            Directory.Move(other, checkpoint);
            await Until(() => model.Reloads == 1);

            while (await pieces.MoveNextAsync()) text += pieces.Current;
            Assert.Equal(expectedText, text);
            Assert.Equal(40, run.GeneratedTokens);
            var after = model.Predictor.Predict([1, 2, 3]);
            Assert.NotEqual(before, after);
            using var fresh = Predictor.Load(files.LanguageSource, checkpoint);
            Assert.Equal(fresh.Predict([1, 2, 3]), after);
            Assert.Null(model.ReloadError);
        });
    }

    [Fact]
    public async Task A_broken_replacement_keeps_the_old_weights_and_the_health_check_degrades()
    {
        await Reloading(files.ClassifierSource, files.Classifier, async (host, model, checkpoint, directory) =>
        {
            var before = model.Predictor.Predict(ServingCheckpoints.Example(0));
            // Weights of another shape: a complete checkpoint folder that does not fit the model.
            File.WriteAllText(Path.Combine(directory, "wide.fnn"), "model Clf : [6] -> [3] = dense 32 >> relu >> dense 3");
            using (var wide = FnnFile.Load(Path.Combine(directory, "wide.fnn")).Compile(options: new NetworkOptions { Seed = 1 }))
                wide.Save(Path.Combine(directory, "wide"));
            Directory.Move(checkpoint, checkpoint + ".old");
            Directory.Move(Path.Combine(directory, "wide"), checkpoint);
            await Until(() => model.ReloadError is not null);
            Assert.Equal(before, model.Predictor.Predict(ServingCheckpoints.Example(0)));
            Assert.Equal(0, model.Reloads);
            var health = await Health(host);
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.Contains("serves its previous weights", health.Entries["functional-models"].Description);
        });
    }

    /// <summary>Serves a copy of <paramref name="checkpoint"/> (in a temporary folder, looked at every 50 ms) as model "m",
    /// runs <paramref name="test"/> on it once it is ready, then stops the host and removes the folder.</summary>
    private static async Task Reloading(string source, string checkpoint, Func<IHost, ServedModel, string, string, Task> test)
    {
        var directory = Directory.CreateTempSubdirectory("functional-reload-").FullName;
        try
        {
            var served = Path.Combine(directory, "served");
            CopyFolder(checkpoint, served);
            using var host = Build(new()
            {
                ["Functional:Models:m:Source"] = source,
                ["Functional:Models:m:Checkpoint"] = served,
                ["Functional:Models:m:ReloadPollSeconds"] = "0.05",
            });
            await host.StartAsync();
            var model = host.Services.GetRequiredService<FunctionalModels>()["m"];
            await Until(() => model.State == ModelState.Ready);
            await test(host, model, served, directory);
            await host.StopAsync();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
