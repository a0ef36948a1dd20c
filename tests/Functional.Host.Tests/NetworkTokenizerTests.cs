using Functional.Networks;
using Functional.Text;

namespace Functional.Host.Tests;

/// <summary>A network carries its tokenizer: checked against its embedding, saved beside model.json, loaded back.</summary>
public sealed class NetworkTokenizerTests : IDisposable
{
    internal const string TinyGpt = """
        let block (dim: int) (heads: int) =
            residual (layerNorm >> attention heads (causal = true))
            >> residual (layerNorm >> dense (4 * dim) >> gelu >> dense dim)

        model Gpt (vocab = 40, dim = 16, context = 16) : [context] int -> [context; vocab] =
            embed vocab dim >> positional context
            >> block dim 2
            >> layerNorm >> dense vocab

        model Plain : [2] -> [1] =
            dense 1
        """;

    private readonly string directory = Directory.CreateTempSubdirectory("functional-network-tokenizer-").FullName;
    private readonly string source;

    public NetworkTokenizerTests()
    {
        source = Path.Combine(directory, "gpt.fnn");
        File.WriteAllText(source, TinyGpt);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_tokenizer_larger_than_the_embedding_is_a_compile_error_at_the_embed()
    {
        using var network = FnnFile.Load(source).Compile("Gpt", new NetworkOptions { Seed = 1 });
        var error = Assert.Throws<FnnCompileException>(() => network.Tokenizer = Tokenizer.Bytes());
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("the byte tokenizer has 256 tokens but embed 40 16 holds 40; make embed's vocabulary at least 256", diagnostic.Message);
        Assert.Equal((source, 6, 5), (diagnostic.Span.File, diagnostic.Span.Line, diagnostic.Span.Column));
        Assert.Contains($"{source}:6:5: error:", error.Message);
        Assert.Contains("^^^", error.Message); // rendered with a caret, like other compile errors
        Assert.Null(network.Tokenizer);

        network.Tokenizer = Tokenizer.Characters("abcdefghijklmnopqrstuvwxyz 0123456789.!?"); // 40 characters: fits exactly
        Assert.Equal(40, network.Tokenizer!.VocabularySize);
    }

    [Fact]
    public void A_model_without_an_embedding_takes_no_tokenizer()
    {
        using var network = FnnFile.Load(source).Compile("Plain", new NetworkOptions { Seed = 1 });
        var error = Assert.Throws<FnnCompileException>(() => network.Tokenizer = Tokenizer.Characters("ab"));
        Assert.Contains("model Plain takes no token ids (it has no embed layer)", error.Message);
        Assert.Equal(10, error.Diagnostics[0].Span.Line);
    }

    [Fact]
    public void The_context_is_the_input_length_or_else_the_positional_length()
    {
        using var fixedInput = FnnFile.Load(source).Compile("Gpt", new NetworkOptions { Seed = 1 });
        Assert.Equal(16, fixedInput.Context);
        using var symbolic = FnnFile.FromSource("model S : [seq] int -> [seq; 10] =\n    embed 10 4 >> positional 12 >> dense 10\n").Compile("S");
        Assert.Equal(12, symbolic.Context);
        using var neither = FnnFile.FromSource("model N : [seq] int -> [seq; 10] =\n    embed 10 4 >> dense 10\n").Compile("N");
        Assert.Null(neither.Context);
    }

    [Fact]
    public void An_epoch_of_random_windows_is_StepsPerEpoch_batches_and_trains_the_network()
    {
        var text = TextDataTests.Fortunes(30);
        var tokenizer = Tokenizer.Characters(text);
        using var network = FnnFile.Load(source).Compile("Gpt", new NetworkOptions { Seed = 1 });
        network.Tokenizer = tokenizer;
        var train = new TextDataset(tokenizer.Encode(text), 16, tokenizer.VocabularySize);
        var batches = new List<Functional.Training.BatchReport>();
        var options = new Functional.Training.TrainingOptions
        {
            Loss = Functional.Training.Loss.CrossEntropy, Epochs = 3, BatchSize = 4, StepsPerEpoch = 5, Seed = 1,
            Optimizer = Functional.Training.Optimization.Optimizer.Adam(lr: 0.01),
            Metrics = [Functional.Training.Metric.Perplexity],
            BatchProgress = new Progress(batches.Add),
        };
        var result = network.Fit(train, null, options);
        Assert.Equal(15, result.Steps);
        Assert.Equal(3, result.EpochsRun);
        Assert.All(batches, b => Assert.Equal(5, b.Batches));
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss, "the loss fell");
        Assert.All(result.Epochs, r => Assert.Equal(Math.Exp(r.Loss), r.Metrics["ppl"], 9));
    }

    private sealed class Progress(Action<Functional.Training.BatchReport> report) : IProgress<Functional.Training.BatchReport>
    {
        public void Report(Functional.Training.BatchReport value) => report(value);
    }

    [Fact]
    public void The_tokenizer_is_saved_beside_model_json_and_loaded_back()
    {
        var saved = Path.Combine(directory, "saved");
        var text = "hello, world! 0123";
        using (var network = FnnFile.Load(source).Compile("Gpt", new NetworkOptions { Seed = 1 }))
        {
            network.Tokenizer = Tokenizer.Characters(text);
            network.Save(saved);
        }
        Assert.True(File.Exists(Path.Combine(saved, Tokenizer.FileName)));
        using var loaded = Network.Load(source, saved);
        Assert.NotNull(loaded.Tokenizer);
        Assert.Equal("char", loaded.Tokenizer.Kind);
        Assert.Equal(Tokenizer.Characters(text).Encode(text), loaded.Tokenizer.Encode(text));

        using var other = FnnFile.Load(source).Compile("Gpt", new NetworkOptions { Seed = 2 });
        Assert.Null(other.Tokenizer);
        other.LoadWeights(saved);
        Assert.Equal(loaded.Tokenizer.VocabularySize, other.Tokenizer!.VocabularySize);

        // Saved again without one: the earlier tokenizer.json does not outlive its checkpoint.
        other.Tokenizer = null;
        other.Save(saved);
        Assert.False(File.Exists(Path.Combine(saved, Tokenizer.FileName)));
        other.Tokenizer = Tokenizer.Characters("xyz");
        other.LoadWeights(saved);
        Assert.Null(other.Tokenizer);
    }
}
