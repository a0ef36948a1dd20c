using System.IO.Compression;

namespace Functional.Hostile;

/// <summary>
/// The valid inputs every corruption starts from, made once in the work folder: a source with a trained model
/// and a classifier, a checkpoint with everything a resume needs, a CSV and an IDX data set.
/// </summary>
internal sealed class Fixture
{
    public const string SourceText = """
        // The hostile suite's models: one trained on its train block, one on data files.
        model Tiny : [2] -> [1] =
            dense 4 >> tanh >> dense 1

        train Tiny with
            data = [ [0; 0] => [0]; [0; 1] => [1]; [1; 0] => [1]; [1; 1] => [0] ]
            optimizer = adam (lr = 0.05)
            epochs = 4
            batch = 2

        model Classes : [2] -> [3] =
            dense 3

        train Classes with
            loss = crossEntropy
            optimizer = adam (lr = 0.01)
            epochs = 2
            batch = 4

        model Picture : [1; 2; 2] -> [2] =
            flatten >> dense 2

        train Picture with
            loss = crossEntropy
            epochs = 1
            batch = 2

        model Words : [4] int -> [2] =
            embed 5 3 >> flatten >> dense 2

        train Words with
            loss = crossEntropy
            epochs = 1
            batch = 2

        model Wide (dim = 4) : [2] -> [1] =
            dense dim >> dense 1

        model Chars : [8] int -> [8; 24] =
            embed 24 6 >> dense 24

        train Chars with
            loss = crossEntropy
            optimizer = adam (lr = 0.01)
            epochs = 1
            batch = 8
        """;

    /// <summary>The text the Chars model trains on: fortune-format entries (a char vocabulary of 16).</summary>
    public const string TextCorpus = "the cat sat\n%\na mat ran\n%\nthe dog sat on a mat\n%\ncats ran on\n%\nno dogs\n%\n";

    public string Root { get; }
    public string Source { get; }
    public string Checkpoint { get; }
    public string Csv { get; }
    public string ClassesCheckpoint { get; }
    public string TokensCsv { get; }
    public string IdxImages { get; }
    public string IdxLabels { get; }

    /// <summary>A text (fortune format) and its token cache beside it, written by the training that made TextCheckpoint.</summary>
    public string Text { get; }

    /// <summary>A checkpoint of Chars trained on Text, with its tokenizer.json.</summary>
    public string TextCheckpoint { get; }

    /// <summary>A LoRA adapter of Tiny (on every projection), fine-tuned from Checkpoint.</summary>
    public string Adapter { get; }

    private int next;

    public Fixture(string root)
    {
        Root = root;
        Source = Write("models.fnn", SourceText);
        Checkpoint = Path.Combine(root, "trained");
        Csv = Write("classes.csv", "x,y,label\n" + string.Join("\n", Enumerable.Range(0, 12).Select(i => $"{i % 3},{i % 2},c{i % 3}")) + "\n");
        TokensCsv = Write("tokens.csv", "a,b,c,d,label\n" + string.Join("\n", Enumerable.Range(0, 8).Select(i => $"{i % 5},{(i + 1) % 5},{(i + 2) % 5},{(i + 3) % 5},{i % 2}")) + "\n");
        IdxImages = Path.Combine(root, "tiny-images-idx3-ubyte.gz");
        IdxLabels = Path.Combine(root, "tiny-labels-idx1-ubyte.gz");
        WriteIdx(IdxImages, IdxLabels, 6);
        ClassesCheckpoint = Path.Combine(root, "classes");
        Require(["train", Source, "--model", "Tiny", "--out", Checkpoint]);
        Adapter = Path.Combine(root, "adapter");
        Require(["finetune", Source, "--model", "Tiny", "--from", Checkpoint, "--lora", "rank=2", "--lora-on", "*", "--epochs", "1", "--out", Adapter]);
        Require(["train", Source, "--model", "Classes", "--data", Csv, "--epochs", "2", "--out", ClassesCheckpoint]);
        Text = Write("chars.txt", TextCorpus);
        TextCheckpoint = Path.Combine(root, "text");
        Require(["train", Source, "--model", "Chars", "--text", Text, "--out", TextCheckpoint]);
    }

    /// <summary>A fresh folder for one attempt, under the work folder.</summary>
    public string NewFolder()
    {
        var folder = Path.Combine(Root, "attempts", (next++).ToString("D6"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>A copy of a checkpoint folder in a fresh attempt folder.</summary>
    public string CopyOf(string checkpoint)
    {
        var copy = Path.Combine(NewFolder(), "checkpoint");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(checkpoint)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>MNIST-layout IDX files of 2x2 images, gzipped: images bright or dark, labelled 1 or 0.</summary>
    public static void WriteIdx(string images, string labels, int count)
    {
        var pixels = new List<byte> { 0, 0, 8, 3, 0, 0, 0, (byte)count, 0, 0, 0, 2, 0, 0, 0, 2 };
        var classes = new List<byte> { 0, 0, 8, 1, 0, 0, 0, (byte)count };
        for (var i = 0; i < count; i++)
        {
            pixels.AddRange(Enumerable.Repeat((byte)(i % 2 == 0 ? 220 : 20), 4));
            classes.Add((byte)(i % 2 == 0 ? 1 : 0));
        }
        Gzip(images, pixels.ToArray());
        Gzip(labels, classes.ToArray());
    }

    public static void Gzip(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
    }

    private static void Require(string[] arguments)
    {
        var result = InProcessFnn.Run(arguments, TimeSpan.FromMinutes(5))
                     ?? throw new InvalidOperationException($"fnn {string.Join(' ', arguments)} did not finish");
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"the fixture could not be made: fnn {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Error}");
    }
}
