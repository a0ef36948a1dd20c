using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary>The CLI, the C# example and F# Interactive, run as a user runs them.</summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("functional-e2e-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Fnn_check_reports_file_line_column_and_a_caret_and_exits_1()
    {
        var bad = Path.Combine(directory, "bad.fnn");
        File.WriteAllText(bad, "model M : [2] -> [1] =\n    dense 4 >> sigmoid >> dense 3\n\nmodel N : [2] -> [1] =\n    dense 1 >> sigmod\n");
        var result = Processes.Fnn("check", bad);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{bad}:2:27: error: model M declares its output as [1], but its body produces [3]", result.Error);
        Assert.Contains($"{bad}:5:16: error: 'sigmod' is not defined; did you mean 'sigmoid'?", result.Error);
        Assert.Contains("  |                           ^^^^^^^", result.Error);
        Assert.EndsWith("2 errors", result.Error.TrimEnd());
    }

    [Fact]
    public void Fnn_check_reports_train_block_settings_out_of_range_at_their_place()
    {
        var bad = Path.Combine(directory, "lr.fnn");
        File.WriteAllText(bad, "model M : [1] -> [1] =\n    dense 1\n\ntrain M with\n    loss = mse\n    optimizer = adam (lr = -1)\n");
        var result = Processes.Fnn("check", bad);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{bad}:6:23: error: adam's lr must be positive, but it is -1", result.Error);
        Assert.Contains("  |                       ^^\n", result.Error);
        var json = Processes.Fnn("check", bad, "--format", "json");
        Assert.Equal(1, json.ExitCode);
        Assert.Contains("\"message\": \"adam's lr must be positive, but it is -1\"", json.Output);
    }

    [Fact]
    public void Fnn_check_passes_the_example_and_exits_0()
    {
        var result = Processes.Fnn("check", "examples/xor/xor.fnn");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("examples/xor/xor.fnn: ok (2 models: Xor [2] -> [1], XorByHand [2] -> [1]; 2 train blocks)", result.Output);
    }

    [Fact]
    public void Fnn_summary_of_the_gpt_counts_the_parameters_of_the_same_network_written_in_torchsharp()
    {
        var result = Processes.Fnn("summary", "examples/language-tour/tour.fnn", "--model", "Gpt");
        Assert.True(result.ExitCode == 0, result.Error);
        var total = result.Output.Split('\n').Single(l => l.StartsWith("total parameters:"));
        var printed = long.Parse(total.Split(':')[1].Trim().Split(' ')[0].Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);

        // The same GPT by hand: vocab 96, dim 128, 4 heads, depth 4, context 128.
        const int vocab = 96, dim = 128, depth = 4, context = 128;
        var modules = new List<TorchSharp.torch.nn.Module>
        {
            TorchSharp.torch.nn.Embedding(vocab, dim),
            TorchSharp.torch.nn.LayerNorm(dim),
            TorchSharp.torch.nn.Linear(dim, vocab),
        };
        for (var i = 0; i < depth; i++)
        {
            modules.Add(TorchSharp.torch.nn.LayerNorm(dim));
            modules.AddRange(Enumerable.Range(0, 4).Select(_ => TorchSharp.torch.nn.Linear(dim, dim))); // query, key, value, output
            modules.Add(TorchSharp.torch.nn.LayerNorm(dim));
            modules.Add(TorchSharp.torch.nn.Linear(dim, 4 * dim));
            modules.Add(TorchSharp.torch.nn.Linear(4 * dim, dim));
        }
        using var positional = TorchSharp.torch.zeros(context, dim);
        var byHand = modules.Sum(m => m.parameters().Sum(p => p.numel())) + positional.numel();
        foreach (var m in modules) m.Dispose();

        Assert.Equal(byHand, printed);
    }

    [Fact]
    public void Fnn_train_saves_weights_that_fnn_predict_uses()
    {
        var train = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--seed", "2", "--out", directory);
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("epoch 3000/3000", train.Output);
        var finalLoss = train.Output.Split('\n').Single(l => l.Contains("final loss (mse):"));
        var mse = double.Parse(finalLoss.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(mse < 0.01, finalLoss);
        Assert.True(File.Exists(Path.Combine(directory, "weights.safetensors")));

        var predict = Processes.Fnn("predict", "examples/xor/xor.fnn", "--weights", directory, "--input", "0,1", "--input", "1 1");
        Assert.True(predict.ExitCode == 0, predict.Error);
        var lines = predict.Output.Trim().Split('\n').Select(l => float.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.True(lines[0] > 0.5 && lines[1] < 0.5, predict.Output);
    }

    [Fact]
    public void Fnn_train_takes_an_optimizer_and_a_schedule_and_explains_bad_ones()
    {
        var ok = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--epochs", "5",
            "--optimizer", "adamw(lr=0.01, weightDecay=0.05)", "--schedule", "cosine(epochs=5)");
        Assert.True(ok.ExitCode == 0, ok.Error);
        Assert.Contains("5 epochs, batch 1, adamw (lr = 0.01)", ok.Output);

        var bad = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--optimizer", "adam(momentum=0.9)");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--optimizer:1:6: error: adam has no option 'momentum'; its options are lr,", bad.Error);
        Assert.Contains("1 | adam(momentum=0.9)\n  |      ^^^^^^^^", bad.Error);

        var snake = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--schedule", "cosine(epochs=5, min_lr=0.001)");
        Assert.Equal(1, snake.ExitCode);
        Assert.Contains("--schedule:1:18: error: cosine has no option 'min_lr'; did you mean 'minLr'?", snake.Error);

        var range = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--optimizer", "adam(eps=0)");
        Assert.Equal(1, range.ExitCode);
        Assert.Contains("--optimizer:1:6: error: adam's eps must be positive, but it is 0", range.Error);

        var huge = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--lr", "1e300");
        Assert.Equal(1, huge.ExitCode);
        Assert.Contains("error: --lr must be at most 3.4028235e38 (the largest float32), but it is 1e300", huge.Error);
        Assert.DoesNotContain("libtorch", huge.Error);
    }

    /// <summary>A train block with its own examples: y = 2x at twenty points, so a run has more than eight predictions to show.</summary>
    private string LineSource(int epochs)
    {
        var source = Path.Combine(directory, "line.fnn");
        var examples = string.Join("; ", Enumerable.Range(0, 20).Select(i => $"[{i / 10.0:0.0}] => [{i / 5.0:0.0}]"));
        File.WriteAllText(source, $"model Line : [1] -> [1] =\n    dense 1\n\ntrain Line with\n    data = [ {examples} ]\n    optimizer = sgd (lr = 0.05)\n    epochs = {epochs}\n    batch = 4\n");
        return source;
    }

    [Fact]
    public void Fnn_train_on_a_train_blocks_own_data_has_what_a_data_file_run_has()
    {
        var source = LineSource(40);
        var history = Path.Combine(directory, "history.csv");
        var picture = Path.Combine(directory, "curves.png");
        var checkpoint = Path.Combine(directory, "run");
        var trained = Processes.Fnn("train", source, "--valid-split", "0.25", "--patience", "2", "--history", history,
            "--plot", picture, "--out", checkpoint);
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);
        Assert.Contains("val_loss", trained.Output);
        Assert.Contains("predictions on the first 8 of 20 training inputs (12 left out):", trained.Output);
        Assert.Equal(8, trained.Output.Split('\n').Count(l => l.Contains("   (target [")));
        var lines = File.ReadAllLines(history);
        Assert.Equal("epoch,loss,val_loss,lr,seconds", lines[0]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(picture)[..4]);
        foreach (var part in new[] { "weights.safetensors", "model.json", "optimizer.bin", "training.json" })
            Assert.True(File.Exists(Path.Combine(checkpoint, part)), part);

        // Resumed to more epochs, it continues from the saved epoch: the history holds every epoch once.
        var epochsDone = lines.Length - 1;
        var resumed = Processes.Fnn("train", source, "--valid-split", "0.25", "--history", history, "--out", checkpoint,
            "--resume", checkpoint, "--epochs", "60");
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Assert.Contains("epoch 60/60", resumed.Output);
        var after = File.ReadAllLines(history);
        Assert.Equal(61, after.Length);
        Assert.Equal(lines[1..Math.Min(epochsDone, 40)].Select(l => l.Split(',')[1]), after[1..Math.Min(epochsDone, 40)].Select(l => l.Split(',')[1]));

        var missing = Processes.Fnn("train", source, "--resume", Path.Combine(directory, "nonexistent"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nonexistent: no such folder to resume from", missing.Error);
    }

    /// <summary>Ctrl+C (SIGINT) and SIGTERM stop a run alike, at a step boundary with a whole checkpoint; a second
    /// signal right after the first stops it at once, and the checkpoint folder still holds a whole checkpoint.</summary>
    [Theory]
    [InlineData(new[] { "INT" }, 130)]
    [InlineData(new[] { "TERM" }, 143)]
    [InlineData(new[] { "TERM", "TERM" }, 143)]
    public void Fnn_train_stopped_by_a_signal_says_so_keeps_a_whole_checkpoint_and_exits_128_plus_the_signal(string[] signals, int exitCode)
    {
        var source = LineSource(20_000);
        var checkpoint = Path.Combine(directory, "run");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Repository.Output("Functional.Cli", "fnn.dll"), "train", source, "--out", checkpoint })
            start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var output = new System.Text.StringBuilder();
        // Wait for the first checkpoint (a train block's run writes about ten: every 2,000 epochs here), then interrupt.
        while (process.StandardOutput.ReadLine() is { } line)
        {
            output.AppendLine(line);
            if (line.Contains("epoch  2000/")) break;
        }
        while (!File.Exists(Path.Combine(checkpoint, "training.json"))) Thread.Sleep(50);
        foreach (var signal in signals)
        {
            // A moment apart, so that the second arrives while the first is being acted on (often during the final save).
            using (var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, process.Id.ToString()])) kill.WaitForExit();
            Thread.Sleep(20);
        }
        output.Append(process.StandardOutput.ReadToEnd());
        process.WaitForExit();

        Assert.True(process.ExitCode == exitCode, $"exit code {process.ExitCode}: {output}{error.Result}");
        Assert.Contains("stopping after the current step", error.Result);
        Assert.DoesNotContain("   at ", error.Result);
        if (signals.Length == 1)
        {
            Assert.Contains("training was cancelled", error.Result);
            Assert.Matches(@"cancelled at step \d+, after \d+ whole epochs", output.ToString());
            Assert.Matches($@"{System.Text.RegularExpressions.Regex.Escape(checkpoint)} holds the checkpoint of epoch \d+000: --resume", output.ToString());
        }
        var resumed = Processes.Fnn("predict", source, "--weights", checkpoint, "--input", "1");
        Assert.True(resumed.ExitCode == 0, resumed.Error);
    }

    /// <summary>Writes MNIST-layout IDX files (gzipped) of 2x2 images: bright ones are class 1, dark ones 0.</summary>
    private string WriteIdx(string prefix, int count, int seed)
    {
        var random = new Random(seed);
        var images = new List<byte>();
        var labels = new List<byte>();
        for (var i = 0; i < count; i++)
        {
            var bright = i % 2 == 1;
            for (var p = 0; p < 4; p++) images.Add((byte)(bright ? 180 + random.Next(70) : random.Next(70)));
            labels.Add((byte)(bright ? 1 : 0));
        }
        static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];
        void Write(string name, IEnumerable<byte> header, List<byte> body)
        {
            using var file = File.Create(Path.Combine(directory, name));
            using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
            gzip.Write([.. header, .. body]);
        }
        Write($"{prefix}-images-idx3-ubyte.gz", [.. BigEndian(0x803), .. BigEndian(count), .. BigEndian(2), .. BigEndian(2)], images);
        Write($"{prefix}-labels-idx1-ubyte.gz", [.. BigEndian(0x801), .. BigEndian(count)], labels);
        return Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz");
    }

    [Fact]
    public void Fnn_eval_maps_csv_labels_by_the_training_files_classes()
    {
        // Three classes, far apart on one axis: a perfect model after a short run.
        string Rows(params string[] classes) => string.Concat(Enumerable.Range(0, 8).SelectMany(i => classes.Select(c =>
            $"{(c == "ant" ? 0 : c == "bee" ? 5 : 10) + 0.1 * i},{c}\n")));
        var train = Path.Combine(directory, "train.csv");
        File.WriteAllText(train, "x,label\n" + Rows("ant", "bee", "cat"));
        var test = Path.Combine(directory, "test.csv");
        File.WriteAllText(test, "x,label\n" + Rows("bee", "cat")); // no ant: numbered afresh, bee would be 0
        var source = Path.Combine(directory, "three.fnn");
        File.WriteAllText(source, "model Three : [1] -> [3] =\n    dense 16 >> relu >> dense 3\n\ntrain Three with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.05)\n    epochs = 150\n    batch = 24\n");
        var weights = Path.Combine(directory, "three");
        var trained = Processes.Fnn("train", source, "--data", train, "--out", weights);
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);
        Assert.Contains("\"classes\"", File.ReadAllText(Path.Combine(weights, "model.json")));

        var full = Processes.Fnn("eval", source, "--weights", weights, "--data", train);
        Assert.True(full.ExitCode == 0, full.Error);
        Assert.Contains("accuracy: 1", full.Output);
        var partial = Processes.Fnn("eval", source, "--weights", weights, "--data", test);
        Assert.True(partial.ExitCode == 0, partial.Error);
        Assert.Contains("accuracy: 1", partial.Output);

        var unknown = Path.Combine(directory, "unknown.csv");
        File.WriteAllText(unknown, "x,label\n5,bee\n3,dog\n");
        var refused = Processes.Fnn("eval", source, "--weights", weights, "--data", unknown);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"{unknown}, line 3, column 2: 'dog' is not one of the classes ant, bee, cat", refused.Error);
    }

    [Fact]
    public void Fnn_train_on_idx_files_validates_and_fnn_eval_reports_loss_and_accuracy()
    {
        var train = WriteIdx("train", 64, 1);
        var test = WriteIdx("t10k", 32, 2);
        var source = Path.Combine(directory, "tiny.fnn");
        File.WriteAllText(source, "model Tiny : [4] -> [2] =\n    dense 2\n\ntrain Tiny with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.1)\n    epochs = 20\n    batch = 8\n");
        var weights = Path.Combine(directory, "weights");

        var picture = Path.Combine(directory, "curves.png");
        var trained = Processes.Fnn("train", source, "--data", train, "--valid", test, "--normalize", "scale", "--out", weights, "--plot", picture);
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);
        Assert.Contains("(64 examples, validating on 32)", trained.Output);
        Assert.Contains("val_accuracy", trained.Output);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(picture)[..4]);

        var evaluated = Processes.Fnn("eval", source, "--weights", weights, "--data", test, "--normalize", "scale");
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        var lines = evaluated.Output.TrimEnd().Split('\n');
        Assert.StartsWith("loss: ", lines[^2]);
        Assert.Equal("accuracy: 1", lines[^1]);

        var noData = Processes.Fnn("train", source);
        Assert.Equal(1, noData.ExitCode);
        Assert.Contains("train Tiny has no data: give it data = [ input => target; ... ] in its train block, or a file with --data", noData.Error);
    }

    /// <summary>When the checkpoint folder (or its previous copy) was last written, if ever.</summary>
    private static DateTime? LastSave(string checkpoint) =>
        new[] { checkpoint, checkpoint + ".previous" }
            .Select(d => Path.Combine(d, "training.json"))
            .Where(File.Exists)
            .Select(f => (DateTime?)File.GetLastWriteTimeUtc(f))
            .Max();

    [Fact]
    public void A_run_killed_while_it_saves_checkpoints_leaves_one_that_resumes()
    {
        var train = WriteIdx("train", 64, 1);
        var source = Path.Combine(directory, "tiny.fnn");
        File.WriteAllText(source, "model Tiny : [4] -> [2] =\n    dense 2\n\ntrain Tiny with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.01)\n    epochs = 100000\n    batch = 64\n");
        var checkpoint = Path.Combine(directory, "run");
        var fnn = Repository.Output("Functional.Cli", "fnn.dll");
        // Each epoch is one step and one checkpoint: killing the process at any moment once it saves is likely
        // to hit a save. It is killed a little after its first save of this round, however slow the machine.
        foreach (var delay in new[] { 0, 150, 300 })
        {
            var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { fnn, "train", source, "--data", train, "--normalize", "scale", "--out", checkpoint })
                start.ArgumentList.Add(a);
            if (Directory.Exists(checkpoint) || Directory.Exists(checkpoint + ".previous")) { start.ArgumentList.Add("--resume"); start.ArgumentList.Add(checkpoint); }
            var saved = LastSave(checkpoint);
            using var process = System.Diagnostics.Process.Start(start)!;
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (LastSave(checkpoint) == saved && !process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Thread.Sleep(delay);
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        var resumed = Processes.Fnn("train", source, "--data", train, "--normalize", "scale", "--out", checkpoint, "--resume", checkpoint, "--epochs", "1");
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        var evaluated = Processes.Fnn("eval", source, "--weights", checkpoint, "--data", train, "--normalize", "scale");
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
    }

    [Fact]
    public void Fnn_predict_explains_bad_input_and_missing_weights()
    {
        var notANumber = Processes.Fnn("predict", "examples/xor/xor.fnn", "--weights", directory, "--input", "0,x");
        Assert.Equal(1, notANumber.ExitCode);
        Assert.Contains("--input \"0,x\": 'x' is not a number", notANumber.Error);

        var noWeights = Processes.Fnn("predict", "examples/xor/xor.fnn", "--weights", directory, "--input", "0,1");
        Assert.Equal(1, noWeights.ExitCode);
        Assert.Contains("model.json: no such file", noWeights.Error);
    }

    [Fact]
    public void Fnn_version_prints_the_assemblys_version()
    {
        var result = Processes.Fnn("--version");
        Assert.True(result.ExitCode == 0, result.Error);
        var version = typeof(Functional.Networks.Network).Assembly.GetName().Version!.ToString(3);
        Assert.Equal($"fnn {version}", result.Output.Trim());
    }

    /// <summary>Every file under <paramref name="root"/> with its bytes, to show that nothing changed.</summary>
    private static Dictionary<string, string> Contents(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToBase64String(File.ReadAllBytes(f)));

    [Fact]
    public void Fnn_train_out_refuses_a_folder_that_holds_other_files_and_leaves_them_untouched()
    {
        var folder = Directory.CreateDirectory(Path.Combine(directory, "results")).FullName;
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var before = Contents(folder);
        var train = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--epochs", "2", "--out", folder);
        Assert.Equal(1, train.ExitCode);
        Assert.Contains($"error: {folder} is not a checkpoint folder: it holds notes.txt.", train.Error);
        Assert.DoesNotContain("Training Xor", train.Output); // refused before any training
        Assert.Equal(before, Contents(folder));

        // On data files too, and with --out . beside the source and the data.
        var data = WriteIdx("train", 8, 1);
        var source = Path.Combine(directory, "tiny.fnn");
        File.WriteAllText(source, "model Tiny : [4] -> [2] =\n    dense 2\n\ntrain Tiny with\n    loss = crossEntropy\n    epochs = 1\n");
        var all = Contents(directory);
        var here = Processes.FnnIn(directory, "train", "tiny.fnn", "--data", Path.GetFileName(data), "--out", ".");
        Assert.Equal(1, here.ExitCode);
        Assert.Contains("error: . is the current folder or holds it", here.Error);
        Assert.Equal(all, Contents(directory));
        var beside = Processes.FnnIn(directory, "train", "tiny.fnn", "--data", Path.GetFileName(data), "--out", "results");
        Assert.Equal(1, beside.ExitCode);
        Assert.Contains("error: results is not a checkpoint folder: it holds notes.txt.", beside.Error);
        Assert.Equal(all, Contents(directory));
    }

    [Fact]
    public void Fnn_train_out_replaces_an_earlier_checkpoint()
    {
        var data = WriteIdx("train", 8, 1);
        var source = Path.Combine(directory, "tiny.fnn");
        File.WriteAllText(source, "model Tiny : [4] -> [2] =\n    dense 2\n\ntrain Tiny with\n    loss = crossEntropy\n    epochs = 1\n");
        var run = Path.Combine(directory, "run");
        var first = Processes.Fnn("train", source, "--data", data, "--out", run, "--seed", "1");
        Assert.True(first.ExitCode == 0, first.Error);
        var before = File.ReadAllBytes(Path.Combine(run, "weights.safetensors"));
        var second = Processes.Fnn("train", source, "--data", data, "--out", run, "--seed", "2");
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.NotEqual(before, File.ReadAllBytes(Path.Combine(run, "weights.safetensors")));
        Assert.Equal(["model.json", "optimizer.bin", "training.json", "weights.safetensors"],
            Directory.GetFiles(run).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var xor = Path.Combine(directory, "xor");
        foreach (var seed in new[] { "1", "2" })
        {
            var trained = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--epochs", "2", "--seed", seed, "--out", xor);
            Assert.True(trained.ExitCode == 0, trained.Error);
        }
        Assert.Contains("\"seed\": 2", File.ReadAllText(Path.Combine(xor, "model.json")));
    }

    [Fact]
    public void A_network_trained_with_set_predicts_and_evaluates_without_repeating_it()
    {
        var data = WriteIdx("train", 16, 1);
        var source = Path.Combine(directory, "wide.fnn");
        File.WriteAllText(source, "model Wide (hidden = 4) : [4] -> [2] =\n    dense hidden >> relu >> dense 2\n\ntrain Wide with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.05)\n    epochs = 5\n    batch = 8\n");
        var weights = Path.Combine(directory, "wide");
        var train = Processes.Fnn("train", source, "--data", data, "--normalize", "scale", "--set", "hidden=8", "--out", weights);
        Assert.True(train.ExitCode == 0, train.Error + train.Output);

        var predict = Processes.Fnn("predict", source, "--weights", weights, "--input", "0.1,0.2,0.1,0", "--input", "0.9,0.8,0.9,1");
        Assert.True(predict.ExitCode == 0, predict.Error);
        Assert.Equal(2, predict.Output.Trim().Split('\n').Length);
        Assert.Equal("", predict.Error);
        var evaluated = Processes.Fnn("eval", source, "--weights", weights, "--data", data, "--normalize", "scale");
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        Assert.StartsWith("accuracy: ", evaluated.Output.TrimEnd().Split('\n')[^1]);

        var agreeing = Processes.Fnn("predict", source, "--weights", weights, "--input", "0,0,0,0", "--set", "hidden=8");
        Assert.True(agreeing.ExitCode == 0, agreeing.Error);
        var contradicting = Processes.Fnn("eval", source, "--weights", weights, "--data", data, "--set", "hidden=16");
        Assert.Equal(1, contradicting.ExitCode);
        Assert.Contains($"error: hidden = 16 contradicts the checkpoint: {weights} was trained with hidden = 8 (model.json)", contradicting.Error);
    }

    [Fact]
    public void A_source_changed_since_training_is_a_warning_and_with_strict_an_error()
    {
        var train = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--epochs", "50", "--out", Path.Combine(directory, "xor"));
        Assert.True(train.ExitCode == 0, train.Error);
        var source = Path.Combine(directory, "xor.fnn");
        File.WriteAllText(source, File.ReadAllText(Path.Combine(Repository.Root, "examples", "xor", "xor.fnn"))
            .Replace("dense 4 >> sigmoid >> dense 1", "dense 4 >> tanh >> dense 1"));
        var weights = Path.Combine(directory, "xor");

        var warned = Processes.Fnn("predict", source, "--weights", weights, "--input", "0,1");
        Assert.True(warned.ExitCode == 0, warned.Error);
        Assert.StartsWith($"warning: {source} has changed since the checkpoint in {weights} was written (its SHA-256 is ", warned.Error);
        Assert.Single(warned.Output.Trim().Split('\n'));

        var strict = Processes.Fnn("predict", source, "--weights", weights, "--input", "0,1", "--strict");
        Assert.Equal(1, strict.ExitCode);
        Assert.StartsWith($"error: {source} has changed since the checkpoint in {weights} was written", strict.Error);
        Assert.Equal("", strict.Output);

        var data = WriteIdx("train", 8, 1);
        var tiny = Path.Combine(directory, "tiny.fnn");
        File.WriteAllText(tiny, "model Tiny : [4] -> [2] =\n    dense 2\n\ntrain Tiny with\n    loss = crossEntropy\n    epochs = 1\n");
        var run = Path.Combine(directory, "run");
        Assert.Equal(0, Processes.Fnn("train", tiny, "--data", data, "--out", run).ExitCode);
        File.AppendAllText(tiny, "// edited\n");
        var resumed = Processes.Fnn("train", tiny, "--data", data, "--out", run, "--resume", run, "--epochs", "2", "--strict");
        Assert.Equal(1, resumed.ExitCode);
        Assert.Contains($"error: {tiny} has changed since the checkpoint in {run} was written", resumed.Error);
        var lenient = Processes.Fnn("train", tiny, "--data", data, "--out", run, "--resume", run, "--epochs", "2");
        Assert.True(lenient.ExitCode == 0, lenient.Error);
        Assert.StartsWith($"warning: {tiny} has changed since the checkpoint in {run} was written", lenient.Error);
    }

    [Fact]
    public void Fnn_help_is_argus_and_a_bad_flag_is_a_usage_error()
    {
        var help = Processes.Fnn("train", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("USAGE: fnn train", help.Output);
        Assert.Contains("--epochs <count>", help.Output);

        var bad = Processes.Fnn("train", "x.fnn", "--epochz");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("unrecognized argument: '--epochz'", bad.Error);
        Assert.DoesNotContain("USAGE:", bad.Error); // the error and where the options are, not pages of them
        Assert.Contains("(fnn train --help lists the options)", bad.Error);
    }

    [Fact]
    public void The_csharp_example_trains_xor()
    {
        var app = Path.Combine(Repository.Root, "examples", "xor", "XorApp", "bin", Repository.Configuration, "net10.0", "XorApp.dll");
        var result = Processes.Dotnet(app, "3");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("0 xor 1 -> 0.9", result.Output);
        Assert.Matches(@"final loss \(mse\): 0\.00\d+ after 3000 epochs", result.Output);
    }

    [Fact]
    public void The_fsharp_interactive_script_trains_xor()
    {
        if (Repository.Configuration != "Debug") Assert.Fail("repl/prelude.fsx loads the Debug build: run the tests from a Debug build");
        var result = Processes.Dotnet("fsi", "examples/xor/xor.fsx");
        Assert.True(result.ExitCode == 0, result.Error + result.Output);
        Assert.Matches(@"Xor: final loss \(mse\) 0\.00\d+ after 3000 epochs", result.Output);
        Assert.Matches(@"XorByHand: final loss \(mse\) 0\.00\d+ after 3000 epochs", result.Output);
        Assert.Contains("w1   [|2L; 4L|]", result.Output);
    }

    [Fact]
    public void An_engine_that_cannot_load_names_the_real_cause()
    {
        // A folder laid out like a build output, but with the shim as shipped (not patched by our build).
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var shipped = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(shipped), $"{shipped} not found");
        var native = Directory.CreateDirectory(Path.Combine(directory, "runtimes", "linux-x64", "native")).FullName;
        File.Copy(shipped, Path.Combine(native, "libLibTorchSharp.so"));
        var built = Path.GetDirectoryName(Repository.Output("Functional.Host", "Functional.Host.dll"))!;
        foreach (var lib in Directory.GetFiles(Path.Combine(built, "runtimes", "linux-x64", "native"), "lib*.so*"))
            if (Path.GetFileName(lib) != "libLibTorchSharp.so")
                File.CreateSymbolicLink(Path.Combine(native, Path.GetFileName(lib)), lib);
        File.Copy(Path.Combine(built, "TorchSharp.dll"), Path.Combine(directory, "TorchSharp.dll"));
        File.Copy(Path.Combine(built, "Functional.Lang.dll"), Path.Combine(directory, "Functional.Lang.dll"));
        var script = Path.Combine(directory, "engine.fsx");
        File.WriteAllText(script, $$"""
            #r "{{directory}}/TorchSharp.dll"
            #r "{{directory}}/Functional.Lang.dll"
            try Functional.Engine.ensureStarted () ; printfn "started"
            with Functional.Engine.EngineUnavailable m -> printfn "unavailable: %s" m
            """);

        var result = Processes.Dotnet("fsi", script);
        Assert.True(result.ExitCode == 0, result.Error);
        var shippedIsPatched = !result.Output.Contains("unavailable");
        if (shippedIsPatched) Assert.Fail("the shipped libLibTorchSharp.so loaded: this system's libstdc++ has GLIBCXX_3.4.32, nothing to test");
        Assert.Contains("GLIBCXX_3.4.32", result.Output);
        Assert.DoesNotContain("doesn't contain a reference to libtorch-cpu-linux-x64", result.Output);
        Assert.Contains("asks for a newer libstdc++ than this system has", result.Output);
    }
}
