using Functional.Generation;
using Functional.Networks;
using Functional.Serving;
using Functional.Text;

namespace Functional.Host.Tests;

/// <summary>Two small checkpoints, written once: a classifier with dropout and batch norm, and a tiny language model.</summary>
public sealed class ServingCheckpoints : IDisposable
{
    public ServingCheckpoints()
    {
        File.WriteAllText(ClassifierSource, """
            model Clf : [6] -> [3] =
                dense 16 >> batchNorm >> relu >> dropout 0.5 >> dense 3
            """);
        File.WriteAllText(LanguageSource, """
            model Lm (vocab = 12, dim = 16, context = 8) : [seq] int -> [seq; vocab] =
                embed vocab dim >> positional context
                >> residual (layerNorm >> attention 2 (causal = true))
                >> layerNorm >> dense vocab
            """);
        using (var clf = FnnFile.Load(ClassifierSource).Compile(options: new NetworkOptions { Seed = 7 }))
        {
            // Batch norm's running statistics away from 0 and 1, so that inference mode shows.
            var data = Enumerable.Range(0, 32).Select(i => Enumerable.Range(0, 6).Select(j => (float)Math.Sin(i * 6 + j) * 3 + 1).ToArray()).ToList();
            var targets = data.Select(x => new float[] { x[0] > 1 ? 1 : 0, x[1] > 1 ? 1 : 0, x[2] > 1 ? 1 : 0 }).ToList();
            clf.Train(new Training.TrainingPlan { Inputs = data, Targets = targets, Loss = Training.Loss.MeanSquaredError, Epochs = 2, BatchSize = 8 },
                new Training.TrainingOptions { Seed = 1 });
            clf.Save(Classifier);
        }
        using (var lm = FnnFile.Load(LanguageSource).Compile(options: new NetworkOptions { Seed = 3 }))
        {
            lm.Tokenizer = Tokenizer.Characters("abcdefgh ");
            lm.Save(Language);
        }
    }

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("functional-serving-").FullName;
    public string ClassifierSource => Path.Combine(Directory, "clf.fnn");
    public string Classifier => Path.Combine(Directory, "clf");
    public string LanguageSource => Path.Combine(Directory, "lm.fnn");
    public string Language => Path.Combine(Directory, "lm");

    public static float[] Example(int i) => Enumerable.Range(0, 6).Select(j => (float)Math.Cos(i * 0.7 + j)).ToArray();

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class PredictorTests(ServingCheckpoints files) : IClassFixture<ServingCheckpoints>
{
    [Fact]
    public void It_answers_what_the_network_answers_in_inference_mode()
    {
        using var network = Network.Load(files.ClassifierSource, files.Classifier);
        using var predictor = Predictor.Load(files.ClassifierSource, files.Classifier);
        var inputs = Enumerable.Range(0, 5).Select(ServingCheckpoints.Example).ToList();
        var expected = network.Predict(inputs);
        var answers = predictor.Predict(inputs);
        // Dropout off and batch norm's running statistics: one example alone gets its row of the batch (to rounding:
        // libtorch's matrix kernels may round a lone row and a batch's rows differently), the same every time.
        var alone = predictor.Predict(inputs[2]);
        for (var j = 0; j < 3; j++)
        {
            Assert.Equal(expected[2][j], answers[2][j], 5);
            Assert.Equal(expected[2][j], alone[j], 5);
        }
        Assert.Equal(alone, predictor.Predict(inputs[2]));
    }

    [Fact]
    public void Concurrent_callers_get_exactly_the_answers_they_get_alone()
    {
        using var predictor = Predictor.Load(files.ClassifierSource, files.Classifier);
        var alone = Enumerable.Range(0, 16).Select(i => predictor.Predict(ServingCheckpoints.Example(i))).ToArray();
        var wrong = 0;
        Parallel.For(0, 8 * 200, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            var i = k % 16;
            var answer = k % 2 == 0 ? predictor.Predict(ServingCheckpoints.Example(i)) : predictor.PredictAsync(ServingCheckpoints.Example(i)).GetAwaiter().GetResult();
            if (!answer.SequenceEqual(alone[i])) Interlocked.Increment(ref wrong);
        });
        Assert.Equal(0, wrong);
    }

    [Fact]
    public async Task Micro_batching_gathers_concurrent_calls_and_gives_each_its_answer()
    {
        using var plain = Predictor.Load(files.ClassifierSource, files.Classifier);
        using var batched = Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions
        {
            MicroBatching = new MicroBatchingOptions { Window = TimeSpan.FromMilliseconds(20), MaxBatchSize = 8 },
        });
        var inputs = Enumerable.Range(0, 40).Select(ServingCheckpoints.Example).ToArray();
        var answers = await Task.WhenAll(inputs.Select(x => batched.PredictAsync(x)));
        for (var i = 0; i < inputs.Length; i++)
        {
            var expected = plain.Predict(inputs[i]);
            Assert.Equal(expected.Length, answers[i].Length);
            // One batch's rows may round differently from a lone row's in the last bits (another matrix kernel).
            for (var j = 0; j < expected.Length; j++) Assert.Equal(expected[j], answers[i][j], 5);
        }
        // A call of several examples stays whole.
        var several = await batched.PredictAsync(inputs[..3]);
        Assert.Equal(3, several.Length);
    }

    [Fact]
    public async Task A_call_cancelled_while_it_waits_for_its_batch_is_cancelled_and_the_others_answered()
    {
        using var batched = Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions
        {
            MicroBatching = new MicroBatchingOptions { Window = TimeSpan.FromMilliseconds(200), MaxBatchSize = 64 },
        });
        using var cancel = new CancellationTokenSource();
        var kept = batched.PredictAsync(ServingCheckpoints.Example(1));
        var dropped = batched.PredictAsync(ServingCheckpoints.Example(2), cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dropped);
        Assert.Equal(3, (await kept).Length);
        // Cancelled before it starts: no call at all.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batched.PredictAsync(ServingCheckpoints.Example(3), cancel.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => batched.Predict(ServingCheckpoints.Example(3), cancel.Token));
    }

    [Theory]
    [InlineData(5, "example 1's input has 5 values, but Clf's input [6] takes 6")]
    [InlineData(0, "example 1's input has 0 values")]
    public void A_wrong_number_of_values_is_refused_with_what_the_model_takes(int length, string message)
    {
        using var predictor = Predictor.Load(files.ClassifierSource, files.Classifier);
        var e = Assert.Throws<InvalidInputException>(() => predictor.Predict(new float[length]));
        Assert.StartsWith(message, e.Reason);
        Assert.Equal(3, predictor.Predict(ServingCheckpoints.Example(0)).Length);
    }

    [Fact]
    public void Counts_of_examples_are_checked()
    {
        using var predictor = Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions { MaxExamplesPerCall = 4 });
        Assert.Contains("no examples", Assert.Throws<InvalidInputException>(() => predictor.Predict(Array.Empty<float[]>())).Reason);
        var five = Enumerable.Range(0, 5).Select(ServingCheckpoints.Example).ToList();
        Assert.Equal("5 examples were given; at most 4 are allowed in one call", Assert.Throws<InvalidInputException>(() => predictor.Predict(five)).Reason);
        Assert.Throws<InvalidInputException>(() => { _ = predictor.PredictAsync(five); });
    }

    [Fact]
    public void NaN_is_refused_by_default_and_passed_on_when_allowed()
    {
        var input = ServingCheckpoints.Example(0);
        input[3] = float.NaN;
        using (var strict = Predictor.Load(files.ClassifierSource, files.Classifier))
            Assert.Equal("example 1's input holds NaN at position 4; only finite numbers can be used",
                Assert.Throws<InvalidInputException>(() => strict.Predict(input)).Reason);
        using var lenient = Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions { NonFinite = NonFiniteInputs.Allow });
        Assert.Contains(lenient.Predict(input), float.IsNaN);
    }

    [Fact]
    public void Token_ids_are_checked_against_the_vocabulary()
    {
        using var predictor = Predictor.Load(files.LanguageSource, files.Language, new PredictorOptions { NonFinite = NonFiniteInputs.Allow });
        Assert.Equal(4 * 12, predictor.Predict([1, 2, 3, 11]).Length);
        Assert.Contains("holds 12, but Lm takes token ids (whole numbers from 0 to 11)", Assert.Throws<InvalidInputException>(() => predictor.Predict([1, 12])).Reason);
        Assert.Contains("takes token ids", Assert.Throws<InvalidInputException>(() => predictor.Predict([1, 2.5f])).Reason);
        Assert.Contains("only finite numbers", Assert.Throws<InvalidInputException>(() => predictor.Predict([float.NaN])).Reason);
    }

    [Fact]
    public void Class_names_name_the_top_class()
    {
        using var plain = Predictor.Load(files.ClassifierSource, files.Classifier);
        Assert.False(plain.IsClassifier);
        Assert.Null(plain.TopClass([0, 1, 0]));
        using var named = Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions { ClassNames = ["a", "b", "c"] });
        Assert.True(named.IsClassifier);
        Assert.Equal(new ClassPrediction(1, "b", 5), named.TopClass([0, 5, 2]));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions { ClassNames = ["a", "b"] }));
        Assert.Contains("2 class names were given, but Clf outputs [3]", e.Message);
    }

    [Fact]
    public void Generation_is_checked_before_it_starts()
    {
        using var predictor = Predictor.Load(files.LanguageSource, files.Language, new PredictorOptions { MaxPromptTokens = 5, MaxNewTokens = 10 });
        Assert.True(predictor.CanGenerate);
        Assert.Equal("the prompt is 6 tokens long; at most 5 are allowed", Assert.Throws<InvalidInputException>(() => predictor.Generate("abcdef", new GenerationOptions { MaxTokens = 5 })).Reason);
        Assert.Equal("11 new tokens were asked for; at most 10 are allowed",
            Assert.Throws<InvalidInputException>(() => predictor.Generate("ab", new GenerationOptions { MaxTokens = 11 })).Reason);
        Assert.StartsWith("the character 'x' (U+0078) is not in the", Assert.Throws<InvalidInputException>(() => predictor.Generate("xyz", new GenerationOptions { MaxTokens = 5 })).Reason);
        var text = string.Concat(predictor.Generate("ab", new GenerationOptions { MaxTokens = 6, Seed = 4 }).ToBlockingEnumerable());
        using var network = Network.Load(files.LanguageSource, files.Language);
        Assert.Equal(new TextGenerator(network).Generate("ab", new GenerationOptions { MaxTokens = 6, Seed = 4 }), text);
        using var classifier = Predictor.Load(files.ClassifierSource, files.Classifier);
        Assert.False(classifier.CanGenerate);
        Assert.Throws<InvalidOperationException>(() => classifier.Generate("ab", new GenerationOptions { MaxTokens = 5 }));
    }

    [Fact]
    public async Task Disposing_waits_for_a_generation_in_flight_and_then_refuses_calls()
    {
        var predictor = Predictor.Load(files.LanguageSource, files.Language);
        var run = predictor.Generate("ab", new GenerationOptions { MaxTokens = 30, Seed = 1 });
        await using var pieces = run.GetAsyncEnumerator();
        Assert.True(await pieces.MoveNextAsync());
        var disposing = Task.Run(predictor.Dispose);
        // The run goes on to its end on the weights it started with; the dispose waits for it.
        var more = 0;
        while (await pieces.MoveNextAsync()) more++;
        await pieces.DisposeAsync();
        await disposing;
        Assert.Equal(30, run.GeneratedTokens);
        Assert.Throws<ObjectDisposedException>(() => predictor.Predict([1, 2]));
        Assert.Throws<ObjectDisposedException>(() => predictor.Generate("ab"));
        predictor.Dispose();
    }

    [Fact]
    public void Serialised_calls_answer_as_unbounded_ones_do()
    {
        using var one = Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions { MaxConcurrentCalls = 1 });
        using var any = Predictor.Load(files.ClassifierSource, files.Classifier);
        var answers = new float[8][];
        Parallel.For(0, 8, i => answers[i] = one.Predict(ServingCheckpoints.Example(i)));
        for (var i = 0; i < 8; i++) Assert.Equal(any.Predict(ServingCheckpoints.Example(i)), answers[i]);
    }

    [Fact]
    public void Out_of_range_options_are_refused_by_name()
    {
        Assert.Equal(nameof(PredictorOptions.MaxConcurrentCalls),
            Assert.Throws<ArgumentOutOfRangeException>(() => Predictor.Load(files.ClassifierSource, files.Classifier, new PredictorOptions { MaxConcurrentCalls = 0 })).ParamName);
        Assert.Equal(nameof(MicroBatchingOptions.Window),
            Assert.Throws<ArgumentOutOfRangeException>(() => new PredictorOptions { MicroBatching = new MicroBatchingOptions { Window = TimeSpan.Zero } }.Validate()).ParamName);
    }

    [Fact]
    public void A_checkpoint_alone_loads_with_the_source_its_model_json_names()
    {
        using var predictor = Predictor.Load(files.Classifier);
        Assert.Equal("Clf", predictor.Name);
        Assert.NotNull(predictor.Stamp);
        Assert.Equal(predictor.Stamp, Checkpoints.CheckpointStamp.Read(files.Classifier));
    }
}
