using Functional.Data;
using Functional.Devices;
using Loss = Functional.Training.Loss;
using Functional.Lang.Checking;
using Functional.Networks;
using Functional.Training;
using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

public class NetworkTests
{
    private const string Xor = """
        model Xor : [2] -> [1] =
            dense 4 >> sigmoid >> dense 1 >> sigmoid

        train Xor with
            data = [ [0; 0] => [0]; [0; 1] => [1]; [1; 0] => [1]; [1; 1] => [0] ]
            optimizer = sgd (lr = 0.5)
            epochs = 10
        """;

    [Fact]
    public void A_checked_file_lists_its_models_and_train_blocks()
    {
        var file = FnnFile.Load(Repository.XorSource);
        Assert.Equal(["Xor", "XorByHand"], file.ModelNames);
        Assert.Equal(["Xor", "XorByHand"], file.TrainedModelNames);
        var plan = file.TrainingPlan("Xor");
        Assert.Equal(4, plan.Inputs.Count);
        Assert.Equal(3000, plan.Epochs);
        Assert.Equal(0.5, plan.LearningRate);
        Assert.Equal(64, file.SourceHash.Length);
    }

    [Fact]
    public void Errors_in_the_source_are_reported_with_file_line_and_column()
    {
        var e = Assert.Throws<FnnCompileException>(() =>
            FnnFile.FromSource("model M : [2] -> [1] =\n    dense 4 >> sigmoid >> dense 3\n", "bad.fnn"));
        Assert.StartsWith("bad.fnn:2:27: error: model M declares its output as [1], but its body produces [3]", e.Message);
        Assert.Contains("^^^^", e.Message);
        var diagnostic = Assert.Single(e.Diagnostics);
        Assert.Equal(new SourceSpan("bad.fnn", 2, 27, 2, 34), diagnostic.Span);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("model M declares its output as [1], but its body produces [3]", diagnostic.Message);
        Assert.Equal("the declared output", Assert.Single(diagnostic.Notes).Message);
    }

    [Theory]
    [InlineData("optimizer = adam (lr = -1)", "6:23", "adam's lr must be positive, but it is -1", 2)]
    [InlineData("optimizer = sgd (nesterov = true)", "6:22", "sgd's nesterov needs momentum above 0", 8)]
    [InlineData("schedule = cosine (epochs = 0)", "6:24", "cosine's epochs must be positive, but it is 0", 6)]
    [InlineData("schedule = stepDecay (every = 2, warmupSteps = 5, warmupEpochs = 1)", "6:55",
        "stepDecay's warmupEpochs cannot be given with warmupSteps: the warm-up is counted in one or the other", 12)]
    [InlineData("schedule = cosine (epochs = 5, minLr = 0.1)", "6:16",
        "cosine's minLr (0.1) is above the learning rate (0.01)", 32)]
    public void Train_block_settings_out_of_range_are_reported_where_they_are_written(string setting, string place, string message, int carets)
    {
        var source = $"model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    data = [ [0] => [1] ]\n    {setting}\n";
        var e = Assert.Throws<FnnCompileException>(() => FnnFile.FromSource(source, "train.fnn"));
        Assert.StartsWith($"train.fnn:{place}: error: {message}", e.Message);
        Assert.Contains($"6 |     {setting}", e.Message);
        Assert.Contains("  | " + new string(' ', int.Parse(place.Split(':')[1]) - 1) + new string('^', carets) + "\n", e.Message + "\n");
        Assert.Single(e.Diagnostics);
    }

    [Fact]
    public void A_missing_file_is_a_clear_error() =>
        Assert.Contains("no-such.fnn: no such file",
            Assert.Throws<FileNotFoundException>(() => FnnFile.Load("no-such.fnn")).Message);

    [Fact]
    public void Unknown_models_and_missing_train_blocks_are_named()
    {
        var file = FnnFile.FromSource("model A : [1] -> [1] =\n    dense 1\nmodel B : [1] -> [1] =\n    dense 1\n", "two.fnn");
        Assert.Contains("two.fnn has no model named 'C'; its models are A, B", Assert.Throws<ArgumentException>(() => file.Compile("C")).Message);
        Assert.Contains("two.fnn has 2 models (A, B): name one", Assert.Throws<ArgumentException>(() => file.Compile()).Message);
        Assert.Contains("no train block for A", Assert.Throws<ArgumentException>(() => file.TrainingPlan("A")).Message);
    }

    [Fact]
    public void Predict_returns_one_output_per_example_and_matches_a_single_prediction()
    {
        using var network = FnnFile.FromSource(Xor).Compile(options: new NetworkOptions { Seed = 3 });
        float[][] inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];
        var batch = network.Predict(inputs);
        Assert.Equal(4, batch.Length);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Single(batch[i]);
            Assert.InRange(batch[i][0], 0f, 1f);
            Assert.Equal(network.Predict(inputs[i])[0], batch[i][0], 6);
        }
    }

    [Fact]
    public void Inputs_of_the_wrong_size_or_not_finite_are_rejected_before_libtorch_sees_them()
    {
        using var network = FnnFile.FromSource(Xor).Compile();
        Assert.Contains("example 1's input has 3 values, but Xor's input [2] takes 2",
            Assert.Throws<ArgumentException>(() => network.Predict([0f, 1f, 1f])).Message);
        Assert.Contains("only finite numbers",
            Assert.Throws<ArgumentException>(() => network.Predict([0f, float.NaN])).Message);
        Assert.Contains("there are no examples",
            Assert.Throws<ArgumentException>(() => network.Predict(Array.Empty<float[]>())).Message);
    }

    [Fact]
    public void Parameters_have_their_paths_and_the_count_is_right()
    {
        using var network = FnnFile.Load(Repository.XorSource).Compile("XorByHand");
        Assert.Equal(["w1", "b1", "w2", "b2"], network.Parameters.Select(p => p.Path));
        Assert.Equal(17, network.ParameterCount);
    }

    /// <summary>One call of every public member of <see cref="Network"/>, by name (a disposed network must refuse each).</summary>
    private static Dictionary<string, Func<Network, object?>> EveryMember(string directory)
    {
        var plan = FnnFile.FromSource(Xor).TrainingPlan();
        var data = new InMemoryDataset([[0f, 0f], [1f, 1f]], new[] { new[] { 0f }, new[] { 1f } });
        var fit = new TrainingOptions { Loss = Loss.MeanSquaredError };
        return new()
        {
            ["Module"] = n => n.Module,
            ["Source"] = n => n.Source,
            ["Options"] = n => n.Options,
            ["Name"] = n => n.Name,
            ["Model"] = n => n.Model,
            ["Parameters"] = n => n.Parameters,
            ["Warnings"] = n => n.Warnings,
            ["ClassNames"] = n => n.ClassNames,
            ["Tokenizer"] = n => n.Tokenizer,
            ["Context"] = n => n.Context,
            ["Tokenizer(set)"] = n => n.Tokenizer = Functional.Text.Tokenizer.Bytes(),
            ["ParameterCount"] = n => n.ParameterCount,
            ["Predict"] = n => n.Predict([0f, 1f]),
            ["Predict(batch)"] = n => n.Predict([[0f, 1f], [1f, 1f]]),
            ["Evaluate"] = n => n.Evaluate(plan),
            ["Evaluate(data)"] = n => n.Evaluate(data, Loss.MeanSquaredError),
            ["Train"] = n => n.Train(plan),
            ["TrainAsync"] = n => n.TrainAsync(plan).GetAwaiter().GetResult(),
            ["Fit"] = n => n.Fit(data, null, fit),
            ["FitAsync"] = n => n.FitAsync(data, null, fit).GetAwaiter().GetResult(),
            ["Save"] = n => { n.Save(directory); return null; },
            ["LoadWeights"] = n => { n.LoadWeights(directory); return null; },
            ["To"] = n => { n.To(Functional.Devices.ComputeDevice.Cpu, Precision.Float64); return null; },
            ["StartFrom"] = n => n.StartFrom(directory),
            ["HasAdapters"] = n => n.HasAdapters,
            ["SelectTrainable"] = n => n.SelectTrainable(),
            ["SaveAdapter"] = n => { n.SaveAdapter(Path.Combine(directory, "adapter")); return null; },
            ["MergeAdapter"] = n => n.MergeAdapter(out _),
        };
    }

    [Fact]
    public void A_disposed_network_throws_ObjectDisposedException_from_every_member_on_every_thread()
    {
        var directory = Directory.CreateTempSubdirectory("functional-disposed-").FullName;
        try
        {
            var members = EveryMember(directory);
            var declared = typeof(Network).GetMembers(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
                .Where(m => m is System.Reflection.PropertyInfo || m is System.Reflection.MethodInfo { IsSpecialName: false })
                .Select(m => m.Name)
                .Where(name => name != nameof(Network.Dispose))
                .ToHashSet();
            Assert.Equal(declared.Order(), members.Keys.Select(k => k.Split('(')[0]).Distinct().Order());

            var network = FnnFile.FromSource(Xor).Compile(options: new NetworkOptions { Seed = 1 });
            network.Save(directory);
            network.Dispose();
            network.Dispose(); // a second Dispose does nothing
            foreach (var (name, call) in members)
            {
                Assert.True(Assert.ThrowsAny<Exception>(() => call(network)) is ObjectDisposedException, name);
                var onAnotherThread = Task.Run(() => call(network));
                Assert.True(Assert.ThrowsAny<Exception>(() => onAnotherThread.GetAwaiter().GetResult()) is ObjectDisposedException, name + " on another thread");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Readers_racing_a_dispose_get_answers_or_ObjectDisposedException_never_a_crash()
    {
        var file = FnnFile.FromSource(Xor);
        for (var round = 0; round < 20; round++)
        {
            var network = file.Compile(options: new NetworkOptions { Seed = 1 });
            using var started = new CountdownEvent(6);
            var readers = Enumerable.Range(0, 6).Select(r => Task.Factory.StartNew(() =>
            {
                started.Signal();
                var answers = 0;
                try
                {
                    while (true)
                    {
                        // Each kind of read, so that every one of them meets the dispose at some point.
                        switch ((r + answers) % 3)
                        {
                            case 0: Assert.Equal(4, network.Parameters.Count); break;
                            case 1: Assert.Equal(17, network.ParameterCount); break;
                            default: Assert.Single(network.Predict([0f, 1f])); break;
                        }
                        answers++;
                    }
                }
                catch (ObjectDisposedException)
                {
                    return answers;
                }
            }, TaskCreationOptions.LongRunning)).ToArray();
            started.Wait();
            network.Dispose();
            Task.WaitAll(readers); // any other exception fails the test; a crash would end the test run
        }
    }

    [Fact]
    public void A_progress_callback_may_predict_but_not_dispose_the_network_it_reports_on()
    {
        using var network = FnnFile.FromSource(Xor).Compile(options: new NetworkOptions { Seed = 1 });
        var plan = network.Source.TrainingPlan();
        var predicted = new List<float>();
        Exception? refused = null;
        network.Train(plan with { Epochs = 2 }, progress: new Inline<EpochReport>(_ =>
        {
            predicted.Add(network.Predict([0f, 1f])[0]);
            refused ??= Record.Exception(network.Dispose);
        }));
        Assert.Equal(2, predicted.Count);
        Assert.Contains("Xor is busy on this thread", Assert.IsType<InvalidOperationException>(refused).Message);
        Assert.Single(network.Predict([0f, 1f])); // not disposed
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    [Fact]
    public void Predictions_run_on_several_threads_at_once_and_agree()
    {
        using var network = FnnFile.FromSource(Xor).Compile(options: new NetworkOptions { Seed = 3 });
        float[][] inputs = [[0, 0], [0, 1], [1, 0], [1, 1]];
        var expected = network.Predict(inputs);
        var results = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8)
            .Select(_ => Enumerable.Range(0, 50).Select(_ => network.Predict(inputs)).ToList())
            .ToList();
        Assert.All(results.SelectMany(r => r), r => Assert.Equal(expected, r));
    }

    [Fact]
    public void A_model_is_described_by_a_record_with_its_shapes_hyperparameters_and_parameters()
    {
        var file = FnnFile.FromSource("""
            /// Tags every position of a sequence
            model Tagger (hidden = 6, name = "tags") : [seq; 3] -> [seq; 2] =
                lstm hidden >> dense 2
            """, "tagger.fnn");
        var model = file.Model();
        Assert.Equal("Tagger", model.Name);
        Assert.Equal("Tags every position of a sequence", model.Doc);
        Assert.Equal(["seq", "3"], model.Input.Dims);
        Assert.False(model.Input.Tokens);
        Assert.Equal("[seq; 2]", model.Output.ToString());
        Assert.Equal("Tagger [seq; 3] -> [seq; 2]", model.ToString());
        Assert.Equal([KeyValuePair.Create("hidden", "6"), KeyValuePair.Create("name", "tags")], model.Hyperparameters);

        using var network = file.Compile(options: new NetworkOptions { Seed = 1 });
        Assert.Equal(network.Parameters, network.Model.Parameters, ParameterComparer.Instance);
        Assert.Equal(network.Parameters, model.Parameters, ParameterComparer.Instance);
        Assert.Contains(model.Parameters, p => p.Path == "1.weight" && p.Shape.SequenceEqual([2L, 6L]) && p.Trainable);
        Assert.Equal(network.ParameterCount, model.Parameters.Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)));

        var tokens = FnnFile.FromSource("model Lm : [8] int -> [8; 5] =\n    embed 5 4 >> dense 5\n").Model();
        Assert.Equal("[8] int", tokens.Input.ToString());
        Assert.True(tokens.Input.Tokens);
    }

    [Fact]
    public void Listing_a_files_model_parameters_leaves_torchs_generator_as_it_was()
    {
        var file = FnnFile.FromSource(Xor);
        TorchSharp.torch.manual_seed(7);
        var expected = TorchSharp.torch.rand(3).data<float>().ToArray();
        TorchSharp.torch.manual_seed(7);
        Assert.Equal(4, file.Model().Parameters.Count);
        Assert.Equal(expected, TorchSharp.torch.rand(3).data<float>().ToArray());
    }

    private sealed class ParameterComparer : IEqualityComparer<ParameterInfo>
    {
        public static readonly ParameterComparer Instance = new();
        public bool Equals(ParameterInfo? a, ParameterInfo? b) =>
            a is not null && b is not null && a.Path == b.Path && a.Shape.SequenceEqual(b.Shape) && a.Trainable == b.Trainable;
        public int GetHashCode(ParameterInfo p) => p.Path.GetHashCode();
    }


    [Fact]
    public void The_public_api_of_networks_and_checkpoints_has_no_fsharp_types()
    {
        var fsharp = new[] { typeof(Microsoft.FSharp.Core.Unit).Assembly, typeof(Functional.Lang.Diagnostic).Assembly };
        bool IsFSharp(Type t) =>
            fsharp.Contains(t.Assembly)
            || (t.HasElementType && IsFSharp(t.GetElementType()!))
            || (t.IsGenericType && t.GetGenericArguments().Any(IsFSharp));
        var types = typeof(Network).Assembly.GetExportedTypes()
            .Where(t => t.Namespace is "Functional.Networks" or "Functional.Checkpoints");
        var flags = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance
                    | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly;
        var found = new List<string>();
        foreach (var type in types)
        foreach (var member in type.GetMembers(flags))
        {
            var signature = member switch
            {
                System.Reflection.MethodBase m => m.GetParameters().Select(p => p.ParameterType)
                    .Concat(m is System.Reflection.MethodInfo mi ? [mi.ReturnType] : []),
                System.Reflection.PropertyInfo p => [p.PropertyType],
                System.Reflection.FieldInfo f => [f.FieldType],
                System.Reflection.EventInfo e => [e.EventHandlerType!],
                _ => [],
            };
            if (member is System.Reflection.MethodBase { IsSpecialName: true }) continue; // accessors: their properties count
            if (signature.Any(IsFSharp)) found.Add($"{type.Name}.{member.Name}");
        }
        Assert.Empty(found.Distinct().Order());
    }

    [Theory]
    [InlineData("cpu", "cpu")]
    [InlineData(" CUDA ", "cuda:0")]
    [InlineData("cuda:3", "cuda:3")]
    public void Devices_parse(string text, string expected) => Assert.Equal(expected, ComputeDevice.Parse(text).ToString());

    [Fact]
    public void Unknown_or_absent_devices_are_clear_errors()
    {
        Assert.Contains("unknown device 'tpu'", Assert.Throws<FormatException>(() => ComputeDevice.Parse("tpu")).Message);
        if (TorchSharp.torch.cuda.is_available()) return; // the machine has CUDA: nothing absent to test
        var e = Assert.Throws<InvalidOperationException>(() =>
            FnnFile.FromSource(Xor).Compile(options: new NetworkOptions { Device = ComputeDevice.Cuda(0) }));
        Assert.Contains("cuda:0 was asked for, but this machine has no CUDA device", e.Message);
    }
}
