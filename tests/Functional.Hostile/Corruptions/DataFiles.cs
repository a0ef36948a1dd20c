using System.Text;

namespace Functional.Hostile.Corruptions;

/// <summary>CSV files fed to training and evaluation: structure, numbers, encodings, sizes, token ids.</summary>
internal sealed class CsvFiles : ICorruptions
{
    public string Kind => "csv";

    private const string Header = "x,y,label\n";

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        (string What, string Text, bool MustFail)[] cases =
        [
            ("empty file", "", true),
            ("a header and no rows", Header, true),
            ("a row without its label", Header + "1,0,c1\n1,0\n", true),
            ("a row with an extra column", Header + "1,0,c1\n1,0,1,c2\n", true),
            ("a feature that is not a number", Header + "1,abc,c1\n", true),
            ("a feature NaN", Header + "1,NaN,c1\n0,1,c2\n", true),
            ("a feature Infinity", Header + "1,Infinity,c1\n0,1,c2\n", true),
            ("a feature beyond float32", Header + "1,1e39,c1\n0,1,c2\n", true),
            ("an unterminated quote", Header + "1,\"0,c1\n0,1,c2\n", true),
            ("a NUL inside a number", Header + "1,0\u00001,c1\n0,1,c2\n", true),
            ("a row of 100,000 columns", Header + string.Join(",", Enumerable.Repeat("1", 100_000)) + "\n", true),
            ("a 10 MB field", Header + "1,0," + new string('c', 10_000_000) + "\n", true),
            ("a UTF-8 byte order mark, then valid rows", "\uFEFF" + Header + "1,0,c1\n0,1,c2\n", false),
            ("CRLF line ends", (Header + "1,0,c1\n0,1,c2\n").Replace("\n", "\r\n"), false),
            ("a blank line between rows", Header + "1,0,c1\n\n0,1,c2\n", false),
        ];
        foreach (var (what, text, mustFail) in cases)
            foreach (var attempt in Commands(fixture, what, Encoding.UTF8.GetBytes(text), mustFail))
                yield return attempt;
        foreach (var attempt in Commands(fixture, "invalid UTF-8 in a label", [.. Encoding.UTF8.GetBytes(Header + "1,0,c"), 0xFF, 0xFE, (byte)'\n'], true))
            yield return attempt;
        yield return Sparse(fixture, "a 1 GB field of NUL bytes (a sparse file)", 1L << 30);
        yield return Eval(fixture, "a class the model was not trained on", Encoding.UTF8.GetBytes(Header + "1,0,c1\n0,1,c9\n"), mustFail: true);
        foreach (var (what, row) in new[] { ("a fractional token id", "1.5,2,3,4,0"), ("a negative token id", "-1,2,3,4,0"), ("a token id equal to the vocabulary", "5,2,3,4,0"), ("a token id of 1e10", "1e10,2,3,4,0") })
        {
            var path = Path.Combine(fixture.NewFolder(), "tokens.csv");
            File.WriteAllText(path, "a,b,c,d,label\n0,1,2,3,1\n" + row + "\n");
            yield return new Attempt(Kind, what, ["train", fixture.Source, "--model", "Words", "--data", path, "--epochs", "1"], "tokens.csv");
        }
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var bytes = File.ReadAllBytes(fixture.Csv);
        const string alphabet = ",\"\n\r\0-.eE9+ ";
        var changes = 1 + random.Next(3);
        for (var i = 0; i < changes; i++)
            bytes[random.Next(bytes.Length)] = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)alphabet[random.Next(alphabet.Length)];
        var what = $"{changes} characters replaced (seeded)";
        return random.Next(2) == 0 ? Train(fixture, what, bytes, mustFail: false) : Eval(fixture, what, bytes, mustFail: false);
    }

    private IEnumerable<Attempt> Commands(Fixture fixture, string what, byte[] bytes, bool mustFail)
    {
        yield return Train(fixture, what, bytes, mustFail);
        yield return Eval(fixture, what, bytes, mustFail);
    }

    private Attempt Train(Fixture fixture, string what, byte[] bytes, bool mustFail)
    {
        var path = Path.Combine(fixture.NewFolder(), "data.csv");
        File.WriteAllBytes(path, bytes);
        return new(Kind, what + " (train)", ["train", fixture.Source, "--model", "Classes", "--data", path, "--epochs", "1"], "data.csv", mustFail);
    }

    private Attempt Eval(Fixture fixture, string what, byte[] bytes, bool mustFail)
    {
        var path = Path.Combine(fixture.NewFolder(), "data.csv");
        File.WriteAllBytes(path, bytes);
        return new(Kind, what + " (eval)", ["eval", fixture.Source, "--weights", fixture.ClassesCheckpoint, "--data", path], "data.csv", mustFail);
    }

    private Attempt Sparse(Fixture fixture, string what, long length)
    {
        var path = Path.Combine(fixture.NewFolder(), "data.csv");
        using (var file = File.Create(path))
        {
            file.Write(Encoding.UTF8.GetBytes(Header + "1,0,"));
            file.SetLength(length); // the rest reads as NUL bytes and takes no disk
        }
        return new(Kind, what, ["train", fixture.Source, "--model", "Classes", "--data", path, "--epochs", "1"], "data.csv");
    }
}

/// <summary>IDX image and label files (MNIST layout, gzipped): magic numbers, ranks, sizes, counts, compression.</summary>
internal sealed class IdxFiles : ICorruptions
{
    public string Kind => "idx";

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        var images = Unzip(fixture.IdxImages);
        // Every field of the header is checked against the model ([1; 2; 2]) and the labels: any hostile value is wrong.
        foreach (var (what, bytes, _) in ByteMutations.Systematic(images, span: 16, stride: 4))
            yield return Run(fixture, "images: " + what, bytes, null, mustFail: !what.Contains("appended"));
        var labels = Unzip(fixture.IdxLabels);
        foreach (var (what, bytes, _) in ByteMutations.Systematic(labels, span: 8, stride: 4))
            yield return Run(fixture, "labels: " + what, images, bytes, mustFail: !what.Contains("appended"));
        var folder = fixture.NewFolder();
        var notGzip = Path.Combine(folder, "data-images-idx3-ubyte.gz");
        File.WriteAllBytes(notGzip, images); // named .gz but not compressed
        File.Copy(fixture.IdxLabels, Path.Combine(folder, "data-labels-idx1-ubyte.gz"));
        // Read by its content, not its name: a valid IDX file is read whatever it is called.
        yield return Train(fixture, "a .gz file that is not gzip", notGzip, "data-images-idx3-ubyte.gz", mustFail: false);
        var cut = Path.Combine(fixture.NewFolder(), "data-images-idx3-ubyte.gz");
        var zipped = File.ReadAllBytes(fixture.IdxImages);
        File.WriteAllBytes(cut, zipped[..(zipped.Length / 2)]);
        File.Copy(fixture.IdxLabels, Path.Combine(Path.GetDirectoryName(cut)!, "data-labels-idx1-ubyte.gz"));
        yield return Train(fixture, "a gzip stream cut in half", cut, "data-images-idx3-ubyte.gz", mustFail: true);
        var big = Path.Combine(fixture.NewFolder(), "data-images-idx3-ubyte.gz");
        Fixture.Gzip(big, [0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, .. new byte[1 << 20]]);
        File.Copy(fixture.IdxLabels, Path.Combine(Path.GetDirectoryName(big)!, "data-labels-idx1-ubyte.gz"));
        yield return Train(fixture, "sizes of 2^31-1 on every axis, 1 MB of pixels", big, "data-images-idx3-ubyte.gz", mustFail: true);
    }

    public Attempt Random(Fixture fixture, Random random)
    {
        var images = Unzip(fixture.IdxImages);
        var (what, bytes, _) = ByteMutations.Random(images, random);
        return Run(fixture, "images: " + what, bytes, null, mustFail: false);
    }

    private Attempt Run(Fixture fixture, string what, byte[] images, byte[]? labels, bool mustFail)
    {
        var folder = fixture.NewFolder();
        var imagesPath = Path.Combine(folder, "data-images-idx3-ubyte.gz");
        var labelsPath = Path.Combine(folder, "data-labels-idx1-ubyte.gz");
        Fixture.Gzip(imagesPath, images);
        if (labels is null) File.Copy(fixture.IdxLabels, labelsPath); else Fixture.Gzip(labelsPath, labels);
        return Train(fixture, what, imagesPath, labels is null ? "data-images-idx3-ubyte.gz" : "data-labels-idx1-ubyte.gz", mustFail);
    }

    private Attempt Train(Fixture fixture, string what, string images, string culprit, bool mustFail) =>
        new(Kind, what, ["train", fixture.Source, "--model", "Picture", "--data", images, "--epochs", "1"], culprit, mustFail);

    private static byte[] Unzip(string path)
    {
        using var file = File.OpenRead(path);
        using var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
        using var memory = new MemoryStream();
        zip.CopyTo(memory);
        return memory.ToArray();
    }
}
