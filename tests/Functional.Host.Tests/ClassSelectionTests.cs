using System.Buffers.Binary;
using Functional.Data;
using Functional.Networks;
using Functional.Training;
using Functional.Host.Tests.Support;

namespace Functional.Host.Tests;

/// <summary>
/// <c>--classes</c>: reading a <see cref="ClassSelection"/>, the <see cref="DatasetExtensions.SelectClasses"/> view of
/// IDX and CSV files (examples kept, relabelled, named), the model's output size, and fnn train/eval/predict with it.
/// </summary>
public sealed class ClassSelectionTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("functional-classes-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    // ---- parsing ---------------------------------------------------------------------------------------

    [Fact]
    public void Groups_are_new_classes_in_the_order_written()
    {
        var s = ClassSelection.Parse(" top = 0,2 , 4,6; other=1,3,5,7,8,9 ;");
        Assert.Equal(["top", "other"], s.Names);
        Assert.Equal(10, s.SourceCount);
        Assert.Equal([0, 2, 4, 6], s.Groups[0]);
        Assert.True(s.TryMap(4, out var four));
        Assert.Equal(0, four);
        Assert.True(s.TryMap(9, out var nine));
        Assert.Equal(1, nine);
        Assert.False(s.TryMap(10, out _));
        Assert.Equal("top=0,2,4,6; other=1,3,5,7,8,9", s.ToString());
    }

    [Fact]
    public void Classes_are_named_as_the_data_names_them_or_by_index()
    {
        string[] names = ["ant", "bee", "cat", "7"];
        var s = ClassSelection.Parse("small=ant,1; big=cat; seven=7", names);
        Assert.Equal([0, 1], s.Groups[0]);
        Assert.Equal([2], s.Groups[1]);
        Assert.Equal([3], s.Groups[2]); // the name "7" wins over index 7
        Assert.False(s.TryMap(4, out _));
    }

    [Theory]
    [InlineData("", "holds no classes: expected name=classes groups")]
    [InlineData(" ; ", "holds no classes")]
    [InlineData("top 0,2; other=1", "'top 0,2' has no '=': expected name=classes")]
    [InlineData("=0; other=1", "'=0': the new class's name before '=' is empty")]
    [InlineData("top=0; top=1", "'top=1': the new class 'top' is named twice")]
    [InlineData("top=; other=1", "'top=' lists no source classes")]
    [InlineData("top=0,,2; other=1", "'top=0,,2' has an empty class between ','")]
    [InlineData("top=0,x; other=1", "'top=0,x': 'x' is not a class index: the data's classes have no names")]
    [InlineData("top=-1; other=1", "'-1' is not a class index")]
    [InlineData("top=0,1,2", "makes only one class, 'top': a classifier needs at least two")]
    [InlineData("top\u0007=0; other=1", "the new class's name holds a control character")]
    public void Malformed_selections_say_what_is_wrong_and_what_was_expected(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => ClassSelection.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("top=0,2; other=2,3", "'other=2,3': source class 2 is already in 'top'")]
    [InlineData("top=0,0; other=1", "'top=0,0': source class 0 is already in 'top'")]
    [InlineData("top=0; other=99999999999", "class 99999999999 is out of range")]
    public void A_class_given_twice_or_out_of_range_is_an_argument_error(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ClassSelection.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Names_and_indices_are_checked_against_the_data_s_classes()
    {
        string[] names = ["ant", "bee", "cat"];
        var unknown = Assert.Throws<FormatException>(() => ClassSelection.Parse("a=ant; b=eel", names));
        Assert.Contains("'b=eel': 'eel' is not one of the data's classes (ant, bee, cat) nor a class index", unknown.Message);
        var range = Assert.Throws<ArgumentException>(() => ClassSelection.Parse("a=ant; b=3", names));
        Assert.Contains("'b=3': class 3 is out of range: the data has 3 classes (0 to 2: ant, bee, cat)", range.Message);
        var twice = Assert.Throws<ArgumentException>(() => ClassSelection.Parse("a=ant; b=0", names));
        Assert.Contains("source class 0 ('ant') is already in 'a'", twice.Message);
    }

    [Fact]
    public void A_hostile_selection_is_quoted_short()
    {
        var e = Assert.Throws<FormatException>(() => ClassSelection.Parse(new string('x', 100_000) + "\u0007"));
        Assert.True(e.Message.Length < 400, e.Message);
        Assert.DoesNotContain('\u0007', e.Message);
        var longName = Assert.Throws<FormatException>(() => ClassSelection.Parse(new string('x', 201) + "=0; b=1"));
        Assert.Contains("the new class's name has 201 characters: expected at most 200", longName.Message);
    }

    // ---- the view of a data set ------------------------------------------------------------------------

    /// <summary>IDX files of 1x2 images whose two values are the example's index and its label (labels 0, 1, 2, 0, 1, 2, ...).</summary>
    private string WriteIdx(string prefix, int count)
    {
        byte[] Header(int magic, params int[] dims)
        {
            var b = new byte[4 + 4 * dims.Length];
            BinaryPrimitives.WriteInt32BigEndian(b, magic);
            for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
            return b;
        }
        var images = Enumerable.Range(0, count).SelectMany(i => new[] { (byte)i, (byte)(i % 3) }).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 3)).ToArray();
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), [.. Header(0x801, count), .. labels]);
        var path = Path.Combine(folder, $"{prefix}-images-idx3-ubyte");
        File.WriteAllBytes(path, [.. Header(0x803, count, 1, 2), .. images]);
        return path;
    }

    [Fact]
    public void Unlisted_classes_are_dropped_and_the_rest_relabelled()
    {
        using var idx = IdxDataset.Open(WriteIdx("train", 12));
        var selected = idx.SelectClasses(ClassSelection.Parse("two=2; zero=0"));
        Assert.Equal(8, selected.Count); // class 1's four examples are left out
        Assert.Equal(2, selected.ClassCount);
        Assert.Equal(["two", "zero"], selected.ClassNames());
        Assert.Equal(TargetKind.ClassIndex, selected.TargetKind);
        Assert.Empty(selected.TargetShape);
        Assert.Equal([1, 2], selected.FeatureShape);

        using var batch = selected.ReadRange(0, 8);
        var features = batch.Features.data<float>().ToArray();
        var targets = batch.Targets.data<long>().ToArray();
        // Examples 0, 2, 3, 5, 6, 8, 9, 11 of the file, in order; class 2 became 0 and class 0 became 1.
        Assert.Equal([0f, 2, 3, 5, 6, 8, 9, 11], Enumerable.Range(0, 8).Select(i => features[2 * i]));
        Assert.Equal([1L, 0, 1, 0, 1, 0, 1, 0], targets);
        using var some = selected.ReadBatch([7, 0, 7]);
        var someFeatures = some.Features.data<float>().ToArray();
        Assert.Equal([11f, 0, 11], Enumerable.Range(0, 3).Select(i => someFeatures[2 * i]));
        Assert.Equal([0L, 1, 0], some.Targets.data<long>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => selected.ReadBatch([8]));
    }

    [Fact]
    public void A_normalised_view_of_a_selection_keeps_its_names_and_scales_its_features()
    {
        using var idx = IdxDataset.Open(WriteIdx("train", 6));
        var view = idx.SelectClasses(ClassSelection.Parse("a=1; b=2")).Normalize(Normalization.Scale(2));
        Assert.Equal(["a", "b"], view.ClassNames());
        using var batch = view.ReadRange(0, 4);
        Assert.Equal([0.5f, 0.5f, 1f, 1f, 2f, 0.5f, 2.5f, 1f], batch.Features.data<float>().ToArray());
        Assert.Equal([0L, 1, 0, 1], batch.Targets.data<long>().ToArray());
    }

    [Fact]
    public void Selecting_from_data_that_cannot_be_selected_names_the_file()
    {
        using var idx = IdxDataset.Open(WriteIdx("train", 6));
        var range = Assert.Throws<ArgumentException>(() => idx.SelectClasses(ClassSelection.Parse("a=0; b=3")));
        Assert.Contains("train-images-idx3-ubyte: class 3 (in 'b') is out of range: the data has 3 classes (0 to 2)", range.Message);

        using var zeros = new InMemoryDataset([[0f], [1f]], new[] { 0, 0 }, classCount: 3);
        var none = Assert.Throws<ArgumentException>(() => zeros.SelectClasses(ClassSelection.Parse("a=1; b=2")));
        Assert.Contains("the data: none of its 2 examples is of the selected classes (a=1; b=2): there is nothing to use", none.Message);

        using var values = new InMemoryDataset([[0f], [1f]], new[] { new[] { 0f }, new[] { 1f } });
        var regression = Assert.Throws<ArgumentException>(() => values.SelectClasses(ClassSelection.Parse("a=0; b=1")));
        Assert.Contains("classes can be selected only from class labels, one per example, but its targets are values [1]", regression.Message);
    }

    private string WriteCsv(string name, params string[] classes)
    {
        var rows = Enumerable.Range(0, 8).SelectMany(i => classes.Select(c =>
            $"{(c is "ant" or "cat" ? 0 : 5) + 0.1 * i},{(c is "ant" or "bee" ? 0 : 5) + 0.1 * i},{c}"));
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "x,y,label\n" + string.Join("\n", rows) + "\n");
        return path;
    }

    [Fact]
    public void Csv_classes_are_selected_by_name_and_the_new_names_are_saved_and_read_back()
    {
        using var csv = CsvDataset.Open(WriteCsv("four.csv", "ant", "bee", "cat", "dog"));
        Assert.Equal(["ant", "bee", "cat", "dog"], csv.ClassNames);
        var selection = ClassSelection.Parse("left=ant,cat; right=bee", csv.ClassNames);
        var train = csv.SelectClasses(selection);
        Assert.Equal(24, train.Count);
        Assert.Equal(["left", "right"], train.ClassNames());

        var source = Path.Combine(folder, "two.fnn");
        File.WriteAllText(source, "model Two : [2] -> [2] =\n    dense 8 >> relu >> dense 2\n\ntrain Two with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.05)\n    epochs = 30\n    batch = 8\n");
        var file = FnnFile.Load(source);
        var weights = Path.Combine(folder, "weights");
        using (var network = file.Compile("Two", new NetworkOptions { Seed = 3 }))
        {
            network.Train(file.TrainingPlan("Two"), train, null);
            Assert.Equal(["left", "right"], network.ClassNames);
            Assert.Equal(1.0, network.Evaluate(train, Loss.CrossEntropy, [Metric.Accuracy]).Metrics["accuracy"]);
            network.Save(weights);
        }
        using var loaded = Network.Load(source, weights);
        Assert.Equal(["left", "right"], loaded.ClassNames);
        Assert.Equal(1.0, loaded.Evaluate(train, Loss.CrossEntropy, [Metric.Accuracy]).Metrics["accuracy"]);
    }

    [Fact]
    public void The_model_must_output_one_score_for_each_selected_class()
    {
        using var csv = CsvDataset.Open(WriteCsv("three.csv", "ant", "bee", "cat"));
        var train = csv.SelectClasses(ClassSelection.Parse("left=ant; right=bee,cat", csv.ClassNames)).Normalize(Normalization.None);
        var file = FnnFile.FromSource("model Three : [2] -> [3] =\n    dense 3\n\ntrain Three with\n    loss = crossEntropy\n    epochs = 1\n    batch = 8\n", "three.fnn");
        using var network = file.Compile("Three");
        var e = Assert.Throws<ArgumentException>(() => network.Train(file.TrainingPlan("Three"), train, null));
        Assert.Contains("three.csv: the data's class selection makes 2 classes (left, right) but model Three outputs [3]: its output must be [2]", e.Message);
        // Three selected classes into three scores train.
        var three = csv.SelectClasses(ClassSelection.Parse("c=cat; b=bee; a=ant", csv.ClassNames));
        Assert.Equal(1, network.Train(file.TrainingPlan("Three"), three, null).EpochsRun);
        Assert.Equal(["c", "b", "a"], network.ClassNames);
    }

    // ---- fnn train, eval and predict -------------------------------------------------------------------

    [Fact]
    public void Fnn_trains_on_selected_classes_and_eval_and_predict_show_their_names()
    {
        var train = WriteCsv("train.csv", "ant", "bee", "cat", "dog");
        var valid = WriteCsv("valid.csv", "dog", "cat", "ant"); // no bee: read by the training file's names
        var source = Path.Combine(folder, "two.fnn");
        File.WriteAllText(source, "model Two : [2] -> [2] =\n    dense 8 >> relu >> dense 2\n\ntrain Two with\n    loss = crossEntropy\n    optimizer = adam (lr = 0.05)\n    epochs = 40\n    batch = 8\n");
        var weights = Path.Combine(folder, "two");
        const string classes = "left=ant,cat; right=bee,dog";

        var trained = Processes.Fnn("train", source, "--data", train, "--valid", valid, "--classes", classes, "--out", weights);
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);
        Assert.Contains("(32 examples, validating on 24; classes left (ant, cat), right (bee, dog))", trained.Output);
        Assert.Contains("accuracy 1", trained.Output);
        Assert.Contains("\"left\"", File.ReadAllText(Path.Combine(weights, "model.json")));

        var evaluated = Processes.Fnn("eval", source, "--weights", weights, "--data", valid, "--classes", classes);
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        Assert.Contains("Two on 24 examples of", evaluated.Output);
        Assert.Contains("classes: left, right", evaluated.Output);
        Assert.Contains($"warning: --classes: {valid} has no example of class 'bee'", evaluated.Error); // but it is a class
        Assert.EndsWith("accuracy: 1", evaluated.Output.TrimEnd());

        var predicted = Processes.Fnn("predict", source, "--weights", weights, "--input", "0,0", "--input", "5.2,5.3");
        Assert.True(predicted.ExitCode == 0, predicted.Error);
        var lines = predicted.Output.TrimEnd().Split('\n');
        Assert.EndsWith("  -> left", lines[0]);
        Assert.EndsWith("  -> right", lines[1]);

        var other = Processes.Fnn("eval", source, "--weights", weights, "--data", valid, "--classes", "a=ant; b=dog");
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("error: --classes makes the classes a, b, but Two was trained on the classes left, right", other.Error);

        var wrongSize = Processes.Fnn("train", source, "--data", train, "--classes", "a=ant; b=bee; c=cat", "--epochs", "1");
        Assert.Equal(1, wrongSize.ExitCode);
        Assert.Contains("error: --classes makes 3 classes (a, b, c) but model Two outputs [2]: its output must be [3], one score per class", wrongSize.Error);
        Assert.DoesNotContain("Training Two", wrongSize.Output); // refused before training starts

        var unknown = Processes.Fnn("train", source, "--data", train, "--classes", "a=ant; b=eel");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("error: --classes 'b=eel': 'eel' is not one of the data's classes (ant, bee, cat, dog) nor a class index", unknown.Error);
    }

    [Fact]
    public void Fnn_train_selects_idx_classes_by_index_in_both_files()
    {
        var train = WriteIdx("train", 30);
        var valid = WriteIdx("t10k", 12);
        var source = Path.Combine(folder, "pair.fnn");
        File.WriteAllText(source, "model Pair : [1; 2] -> [2] =\n    flatten >> dense 2\n\ntrain Pair with\n    loss = crossEntropy\n    epochs = 1\n    batch = 8\n");
        var trained = Processes.Fnn("train", source, "--data", train, "--valid", valid, "--classes", "first=0; last=2");
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);
        Assert.Contains("(20 examples, validating on 8; classes first (0), last (2))", trained.Output);

        var range = Processes.Fnn("train", source, "--data", train, "--classes", "first=0; last=3");
        Assert.Equal(1, range.ExitCode);
        Assert.Contains("error: --classes: " + train + ": class 3 (in 'last') is out of range: the data has 3 classes (0 to 2)", range.Error);

        var noFiles = Processes.Fnn("train", "examples/xor/xor.fnn", "--model", "Xor", "--classes", "first=0; last=2");
        Assert.Equal(1, noFiles.ExitCode);
        Assert.Contains("--classes applies to --data files", noFiles.Error);
    }
}
