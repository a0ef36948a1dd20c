using System.Buffers.Binary;
using System.IO.Compression;
using Functional.Data;
using Functional.Networks;
using TorchSharp;

namespace Functional.Host.Tests;

/// <summary>The data layer: IDX and CSV files (written small, here), arrays, normalisation, shapes and batches.</summary>
public sealed class DataTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("functional-data-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    // ---- IDX files -------------------------------------------------------------------------------------

    private string InFolder(string name) => Path.Combine(folder, name);

    /// <summary>An IDX file's bytes: 00 00 TYPE RANK, big-endian dimensions, then the data.</summary>
    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest)) gzip.Write(bytes);
        return memory.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = InFolder(name);
        File.WriteAllBytes(path, name.EndsWith(".gz") ? Gzip(bytes) : bytes);
        return path;
    }

    private static byte Pixel(int image, int value) => (byte)((image * 31 + value * 7) % 256);

    /// <summary>count images of rows x cols bytes, each value <see cref="Pixel"/>.</summary>
    private static byte[] Images(int count, int rows, int cols) =>
        Idx(0x08, [count, rows, cols], Enumerable.Range(0, count * rows * cols).Select(k => Pixel(k / (rows * cols), k % (rows * cols))).ToArray());

    private static byte[] Labels(params byte[] labels) => Idx(0x08, [labels.Length], labels);

    private static float[] Floats(torch.Tensor t) => t.contiguous().data<float>().ToArray();

    private static long[] Longs(torch.Tensor t) => t.contiguous().data<long>().ToArray();

    [Theory]
    [InlineData(".gz")]
    [InlineData("")]
    public void Idx_files_read_back_exactly_and_the_labels_are_found_by_name(string extension)
    {
        var images = Write($"train-images-idx3-ubyte{extension}", Images(5, 3, 4));
        Write($"train-labels-idx1-ubyte{extension}", Labels(2, 0, 1, 2, 1));

        using var data = IdxDataset.Open(images);
        Assert.Equal(InFolder($"train-labels-idx1-ubyte{extension}"), data.LabelsPath);
        Assert.Equal(5, data.Count);
        Assert.Equal([3, 4], data.FeatureShape);
        Assert.Equal(TargetKind.ClassIndex, data.TargetKind);
        Assert.Equal(3, data.ClassCount);
        using var batch = data.ReadRange(0, 5);
        Assert.Equal([5L, 3, 4], batch.Features.shape);
        Assert.Equal(torch.ScalarType.Float32, batch.Features.dtype);
        Assert.Equal(torch.ScalarType.Int64, batch.Targets.dtype);
        var expected = Enumerable.Range(0, 60).Select(k => (float)Pixel(k / 12, k % 12)).ToArray();
        Assert.Equal(expected, Floats(batch.Features));
        Assert.Equal([2L, 0, 1, 2, 1], Longs(batch.Targets));
    }

    [Fact]
    public void Idx_labels_are_found_with_or_without_gz()
    {
        var images = Write("t10k-images-idx3-ubyte", Images(2, 2, 2));
        Write("t10k-labels-idx1-ubyte.gz", Labels(1, 0));
        using var data = IdxDataset.Open(images);
        Assert.Equal(InFolder("t10k-labels-idx1-ubyte.gz"), data.LabelsPath);
    }

    [Fact]
    public void Idx_reads_other_types_and_ranks_with_float_targets()
    {
        var values = new byte[3 * 2 * 4];
        for (var i = 0; i < 6; i++) BinaryPrimitives.WriteSingleBigEndian(values.AsSpan(4 * i), i * 0.5f - 1);
        var images = Write("points.idx", Idx(0x0D, [3, 2], values));
        var targets = new byte[3 * 8];
        for (var i = 0; i < 3; i++) BinaryPrimitives.WriteDoubleBigEndian(targets.AsSpan(8 * i), i * 10.0);
        var labels = Write("targets.idx.gz", Idx(0x0E, [3], targets));

        using var data = IdxDataset.Open(images, labels);
        Assert.Equal([2], data.FeatureShape);
        Assert.Equal(TargetKind.Values, data.TargetKind);
        Assert.Null(data.ClassCount);
        using var batch = data.ReadBatch([2, 0]);
        Assert.Equal([1f, 1.5f, -1f, -0.5f], Floats(batch.Features));
        Assert.Equal(torch.ScalarType.Float32, batch.Targets.dtype);
        Assert.Equal([20f, 0f], Floats(batch.Targets));
    }

    [Theory]
    [InlineData(".gz")]
    [InlineData("")]
    public void Idx_reads_a_batch_from_the_middle_of_a_large_file(string extension)
    {
        var images = Write($"big-images-idx3-ubyte{extension}", Images(1000, 4, 4));
        Write($"big-labels-idx1-ubyte{extension}", Labels(Enumerable.Range(0, 1000).Select(i => (byte)(i % 10)).ToArray()));
        using var data = IdxDataset.Open(images);
        int[] indices = [500, 501, 502, 37, 999, 500];
        using var batch = data.ReadBatch(indices);
        var expected = indices.SelectMany(i => Enumerable.Range(0, 16).Select(v => (float)Pixel(i, v))).ToArray();
        Assert.Equal(expected, Floats(batch.Features));
        Assert.Equal(indices.Select(i => (long)(i % 10)).ToArray(), Longs(batch.Targets));
    }

    /// <summary>
    /// A batch of 128 Fashion-MNIST-sized images is 401 KB of floats: as a managed array per batch it lands on
    /// the large object heap, and a 10-epoch run's resident memory grew by half a gigabyte before a full
    /// collection (bench/README.md). Batches are written straight into the tensor's memory instead.
    /// </summary>
    [Fact]
    public void Reading_a_batch_allocates_no_managed_copy_of_its_features()
    {
        var images = Write("many-images-idx3-ubyte", Images(256, 28, 28));
        Write("many-labels-idx1-ubyte", Labels(Enumerable.Range(0, 256).Select(i => (byte)(i % 10)).ToArray()));
        using var idx = IdxDataset.Open(images);
        var rows = Enumerable.Range(0, 256).Select(i => Enumerable.Range(0, 784).Select(v => (float)Pixel(i, v)).ToArray()).ToArray();
        using var memory = new InMemoryDataset(rows, Enumerable.Range(0, 256).Select(i => i % 10).ToArray());
        var indices = Enumerable.Range(0, 128).Select(i => (i * 37) % 256).ToArray();
        foreach (var data in new IDataset[] { idx, memory })
        {
            using (data.ReadBatch(indices)) { } // warm-up: the JIT, the pooled read buffer
            var before = GC.GetAllocatedBytesForCurrentThread();
            using var batch = data.ReadBatch(indices);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 64 * 1024, $"{data.GetType().Name}: reading a batch allocated {allocated:N0} managed bytes");
            Assert.Equal(indices.SelectMany(i => Enumerable.Range(0, 784).Select(v => (float)Pixel(i, v))).ToArray(), Floats(batch.Features));
        }
    }

    [Fact]
    public void Large_gzipped_idx_files_are_decompressed_to_a_temporary_file()
    {
        var images = Write("big-images-idx3-ubyte.gz", Images(300, 5, 5));
        Write("big-labels-idx1-ubyte.gz", Labels(Enumerable.Range(0, 300).Select(i => (byte)(i % 4)).ToArray()));
        using var data = IdxDataset.Open(images, options: new IdxOptions { GzipInMemoryLimit = 1000 });
        using var batch = data.ReadBatch([299, 150, 0]);
        var expected = new[] { 299, 150, 0 }.SelectMany(i => Enumerable.Range(0, 25).Select(v => (float)Pixel(i, v))).ToArray();
        Assert.Equal(expected, Floats(batch.Features));
    }

    private DataFormatException OpenFails(string images, string labels, IdxOptions? options = null)
    {
        var e = Assert.Throws<DataFormatException>(() => IdxDataset.Open(images, labels, options).Dispose());
        TestContext.Current.SendDiagnosticMessage(e.Message);
        return e;
    }

    [Theory]
    [InlineData(".gz")]
    [InlineData("")]
    public void Truncated_idx_data_is_reported_with_the_sizes(string extension)
    {
        var whole = Images(4, 3, 4);
        var images = Write($"t10k-images-idx3-ubyte{extension}", whole[..^1]);
        var labels = Write("t10k-labels-idx1-ubyte", Labels(0, 1, 2, 3));
        var e = OpenFails(images, labels);
        Assert.Equal(images, e.FilePath);
        Assert.StartsWith(images + ": ", e.Message);
        Assert.Contains("the header says 4 images of 3x4 (48 bytes) but the file holds 47", e.Message);
    }

    [Fact]
    public void Extra_idx_data_is_an_error_too()
    {
        var images = Write("x-images-idx3-ubyte", [.. Images(4, 3, 4), 0, 0]);
        var labels = Write("x-labels-idx1-ubyte", Labels(0, 1, 2, 3));
        Assert.Contains("but the file holds 50, 2 more", OpenFails(images, labels).Message);
    }

    [Fact]
    public void A_cut_gzip_file_is_reported_with_its_name()
    {
        var compressed = Gzip(Images(50, 8, 8));
        var images = InFolder("cut-images-idx3-ubyte.gz");
        File.WriteAllBytes(images, compressed[..(compressed.Length / 2)]);
        var labels = Write("cut-labels-idx1-ubyte", Labels(new byte[50]));
        Assert.StartsWith(images + ": ", OpenFails(images, labels).Message);
    }

    [Fact]
    public void A_truncated_idx_header_is_reported()
    {
        var images = Write("h-images-idx3-ubyte", Images(4, 3, 4)[..10]);
        var labels = Write("h-labels-idx1-ubyte", Labels(0, 1, 2, 3));
        var e = OpenFails(images, labels);
        Assert.Contains(images, e.Message);
        Assert.Contains("the file ends inside its header: a header of 3 dimensions takes 16 bytes but the file holds 10", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_idx_is_reported_by_its_magic_number()
    {
        var images = Write("m-images-idx3-ubyte", [0x50, 0x4B, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]);
        var labels = Write("m-labels-idx1-ubyte", Labels(0));
        var e = OpenFails(images, labels);
        Assert.Contains(images, e.Message);
        Assert.Contains("not an IDX file: it starts with 50 4B 03 04", e.Message);
    }

    [Fact]
    public void Idx_dimensions_too_large_are_refused_before_allocating()
    {
        var images = Write("o-images-idx3-ubyte", Idx(0x08, [10, 65536, 65536], []));
        var labels = Write("o-labels-idx1-ubyte", Labels(new byte[10]));
        Assert.Contains("65536 x 65536", OpenFails(images, labels).Message);

        // A gzip file cannot promise more than deflate can expand to.
        var lying = Write("l-images-idx3-ubyte.gz", Idx(0x08, [1000, 1000, 1000], []));
        Assert.Contains("cannot hold that much", OpenFails(lying, labels).Message);
    }

    [Fact]
    public void Different_counts_of_images_and_labels_are_reported()
    {
        var images = Write("c-images-idx3-ubyte", Images(4, 2, 2));
        var labels = Write("c-labels-idx1-ubyte", Labels(0, 1, 2));
        var e = OpenFails(images, labels);
        Assert.Equal(labels, e.FilePath);
        Assert.Contains($"it holds 3 labels but {images} holds 4 examples", e.Message);
    }

    [Fact]
    public void Labels_out_of_range_are_reported()
    {
        var images = Write("r-images-idx3-ubyte", Images(3, 2, 2));
        var labels = Write("r-labels-idx1-ubyte", Labels(0, 9, 10));
        var e = OpenFails(images, labels, new IdxOptions { ClassCount = 10 });
        Assert.StartsWith(labels + ": ", e.Message);
        Assert.Contains("label 10 of example 3 is out of range: the data has 10 classes (0 to 9)", e.Message);

        var negative = Write("n-labels-idx1-ubyte", Idx(0x09, [3], [0, 0xFF, 1]));
        Assert.Contains("label -1 of example 2 is negative", OpenFails(images, negative).Message);
    }

    [Fact]
    public void A_missing_labels_file_says_where_it_looked()
    {
        var images = Write("train-images-idx3-ubyte.gz", Images(2, 2, 2));
        var e = Assert.Throws<FileNotFoundException>(() => IdxDataset.Open(images));
        Assert.Contains($"no labels file: looked for {InFolder("train-labels-idx1-ubyte.gz")} and {InFolder("train-labels-idx1-ubyte")}; give it with --labels", e.Message);

        var odd = Write("pictures.gz", Images(2, 2, 2));
        Assert.Contains("give it with --labels", Assert.Throws<FileNotFoundException>(() => IdxDataset.Open(odd)).Message);
    }

    // ---- CSV ---------------------------------------------------------------------------------------------

    private string Csv(string name, string text)
    {
        var path = InFolder(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Csv_that_is_not_valid_utf8_is_refused_naming_the_file_and_byte_not_read_as_replacement_characters()
    {
        var path = InFolder("labels.csv");
        File.WriteAllBytes(path, [.. "x,label\n1,cat\n2,c"u8, 0xFF, 0xFE, (byte)'\n']);
        var error = Assert.Throws<DataFormatException>(() => CsvDataset.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("not valid UTF-8 (byte 0xFF)", error.Message);
    }

    [Fact]
    public void Token_ids_from_a_csv_file_are_checked_before_training_naming_the_file_and_the_example()
    {
        var path = Csv("tokens.csv", "a,b,label\n0,1,0\n1,2,1\n2,3,0\n3,2.5,1\n");
        using var data = CsvDataset.Open(path);
        using var network = FnnFile.FromSource("model Words : [2] int -> [2] =\n    embed 4 3 >> flatten >> dense 2\n").Compile();
        var error = Assert.Throws<ArgumentException>(() =>
            network.Fit(data, null, new Functional.Training.TrainingOptions { Loss = Functional.Training.Loss.CrossEntropy, Epochs = 1, BatchSize = 2 }));
        Assert.StartsWith($"{path}: example 4's input holds 2.5, but Words takes token ids (whole numbers from 0 to 3)", error.Message);
        var evaluation = Assert.Throws<ArgumentException>(() => network.Evaluate(data, Functional.Training.Loss.CrossEntropy));
        Assert.StartsWith($"{path}: example 4's input holds 2.5", evaluation.Message);
    }

    [Fact]
    public void Csv_with_a_header_maps_class_names_to_sorted_indices()
    {
        var path = Csv("iris.csv", "sepal,petal,species\n1.5,0.2,setosa\n6.1,2.3,virginica\n5.0,1.0,versicolor\n4.9,0.1,setosa\n");
        using var data = CsvDataset.Open(path);
        Assert.Equal(["sepal", "petal", "species"], data.ColumnNames!);
        Assert.Equal(4, data.Count);
        Assert.Equal([2], data.FeatureShape);
        Assert.Equal(["setosa", "versicolor", "virginica"], data.ClassNames!);
        Assert.Equal(3, data.ClassCount);
        using var batch = data.ReadRange(0, 4);
        Assert.Equal([1.5f, 0.2f, 6.1f, 2.3f, 5.0f, 1.0f, 4.9f, 0.1f], Floats(batch.Features));
        Assert.Equal([0L, 2, 1, 0], Longs(batch.Targets));

        // A test set without one of the classes maps like the training set when given its class names.
        var test = Csv("test.csv", "sepal,petal,species\n6.0,2.0,virginica\n");
        using var testData = CsvDataset.Open(test, new CsvOptions { ClassNames = data.ClassNames });
        using var testBatch = testData.ReadRange(0, 1);
        Assert.Equal([2L], Longs(testBatch.Targets));
        var unknown = Csv("unknown.csv", "sepal,petal,species\n6.0,2.0,daisy\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(unknown, new CsvOptions { ClassNames = data.ClassNames }));
        Assert.Equal($"{unknown}, line 2, column 3: 'daisy' is not one of the classes setosa, versicolor, virginica (column 'species')", e.Message);
    }

    [Fact]
    public void Csv_without_a_header_and_with_whole_number_labels()
    {
        var path = Csv("plain.csv", "0.5,1,2\r\n-1e-1,3,0\r\n\r\n2,4,10\r\n");
        using var data = CsvDataset.Open(path);
        Assert.Null(data.ColumnNames);
        Assert.Equal(3, data.Count);
        Assert.Equal(11, data.ClassCount); // whole numbers are their own indices
        using var batch = data.ReadBatch([1, 2]);
        Assert.Equal([-0.1f, 3f, 2f, 4f], Floats(batch.Features));
        Assert.Equal([0L, 10], Longs(batch.Targets));
    }

    [Fact]
    public void Csv_quoted_fields_hold_separators_quotes_and_line_breaks()
    {
        var path = Csv("quoted.csv", "\"x, first\",\"y\",label\r\n\"1\",2,\"a \"\"quoted\"\" name\"\r\n3,\"4\",\"two\r\nlines\"\r\n5,6,\"a \"\"quoted\"\" name\"\n");
        using var data = CsvDataset.Open(path);
        Assert.Equal(["x, first", "y", "label"], data.ColumnNames!);
        Assert.Equal(["a \"quoted\" name", "two\r\nlines"], data.ClassNames!);
        using var batch = data.ReadRange(0, 3);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], Floats(batch.Features));
        Assert.Equal([0L, 1, 0], Longs(batch.Targets));

        // Lines are counted through the quoted line break.
        var bad = Csv("quoted-bad.csv", "a,b,label\n1,\"2\",\"x\ny\"\n3,oops,z\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(bad));
        Assert.Equal((4, 2), (e.Line, e.Column));
    }

    [Fact]
    public void Csv_regression_targets_by_name_and_features_by_index()
    {
        var path = Csv("houses.tsv", "rooms\tarea\tprice\tyear\n3\t70.5\t200\t1990\n5\t120\t410.5\t2001\n");
        using var data = CsvDataset.Open(path, new CsvOptions
        {
            Labels = CsvLabels.Values,
            Features = [0, -1],
            Targets = ["price", "area"],
        });
        Assert.Equal(TargetKind.Values, data.TargetKind);
        Assert.Equal([2], data.FeatureShape);
        Assert.Equal([2], data.TargetShape);
        Assert.Null(data.ClassCount);
        using var batch = data.ReadRange(0, 2);
        Assert.Equal([3f, 1990f, 5f, 2001f], Floats(batch.Features));
        Assert.Equal([2L, 2], batch.Targets.shape);
        Assert.Equal([200f, 70.5f, 410.5f, 120f], Floats(batch.Targets));
    }

    [Fact]
    public void A_bad_number_in_csv_is_reported_with_file_line_and_column()
    {
        var path = Csv("bad.csv", "a,b,label\n1,2,x\n3,abc,y\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(path));
        Assert.Equal($"{path}, line 3, column 2: 'abc' is not a number (column 'b')", e.Message);
        Assert.Equal((3, 2), (e.Line, e.Column));

        var infinite = Csv("inf.csv", "1,2\n1e99,1\n");
        Assert.Equal($"{infinite}, line 2, column 1: '1e99' is not a finite number",
            Assert.Throws<DataFormatException>(() => CsvDataset.Open(infinite)).Message);
    }

    [Fact]
    public void A_ragged_csv_row_is_reported()
    {
        var path = Csv("ragged.csv", "a,b,label\n1,2,x\n3,y\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(path));
        Assert.Equal($"{path}, line 3: the row has 2 fields but the header has 3", e.Message);

        var headless = Csv("ragged2.csv", "1,2,0\n3,4,1,5\n");
        Assert.Equal($"{headless}, line 2: the row has 4 fields but line 1 has 3",
            Assert.Throws<DataFormatException>(() => CsvDataset.Open(headless)).Message);
    }

    [Fact]
    public void Csv_column_and_quote_errors_are_clear()
    {
        var path = Csv("cols.csv", "a,b,label\n1,2,x\n");
        Assert.Contains("there is no column named 'c'; the columns are a, b, label",
            Assert.Throws<DataFormatException>(() => CsvDataset.Open(path, new CsvOptions { Targets = ["c"] })).Message);
        Assert.Contains("is both a feature and a target",
            Assert.Throws<ArgumentException>(() => CsvDataset.Open(path, new CsvOptions { Features = ["a", "label"] })).Message);

        var open = Csv("open.csv", "a,label\n1,\"x\n2,y\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(open));
        Assert.Equal((2, 2), (e.Line, e.Column));
        Assert.Contains("closing quote is missing", e.Message);
    }

    [Fact]
    public void Csv_a_gigabyte_field_is_refused_at_the_limit_without_reading_the_file()
    {
        // A sparse file: a header line, then 1 GB of NUL bytes (no disk, no line break).
        var path = InFolder("huge-field.csv");
        File.WriteAllText(path, "a,label\n");
        using (var f = new FileStream(path, FileMode.Append)) f.SetLength(f.Length + (1L << 30));
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(path));
        Assert.Equal((2, 1), (e.Line, e.Column));
        Assert.Contains($"longer than {CsvLimits.DefaultMaxFieldLength} characters", e.Message);
        Assert.Contains("\\0\\0", e.Message); // an excerpt, NULs written as escapes
        Assert.True(e.Message.Length < 400, e.Message.Length.ToString());

        // Inside quotes too, where a line break does not end it.
        var quoted = Csv("quoted-field.csv", "a,label\n1,\"" + new string('x', 100) + "\n" + new string('y', 100) + "\"\n");
        var q = Assert.Throws<DataFormatException>(() => CsvDataset.Open(quoted, new CsvOptions { Limits = new() { MaxFieldLength = 150 } }));
        Assert.Equal((2, 2), (q.Line, q.Column));
        Assert.Contains("xxxx", q.Message);
    }

    [Fact]
    public void Csv_records_columns_and_file_size_are_bounded()
    {
        var wide = Csv("wide.csv", string.Join(",", Enumerable.Repeat("1", 30)) + "\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(wide, new CsvOptions { Limits = new() { MaxColumns = 20 } }));
        Assert.Equal((1, 21), (e.Line, e.Column));
        Assert.Contains("more than 20 fields", e.Message);

        var longRecord = Csv("long.csv", "a,b,label\n" + string.Join(",", Enumerable.Repeat("12345", 3)) + "\n");
        var r = Assert.Throws<DataFormatException>(() => CsvDataset.Open(longRecord, new CsvOptions { Limits = new() { MaxRecordLength = 10 } }));
        Assert.Equal(2, r.Line);
        Assert.Contains("record is longer than 10 characters", r.Message);

        var big = Csv("big.csv", "a,label\n1,x\n");
        var b = Assert.Throws<DataFormatException>(() => CsvDataset.Open(big, new CsvOptions { Limits = new() { MaxFileBytes = 5 } }));
        Assert.Contains("the file is 12 bytes, more than the 5", b.Message);
        Assert.Contains(big, b.Message);
    }

    [Fact]
    public void Csv_messages_quote_a_long_field_as_a_short_excerpt()
    {
        var path = Csv("long-word.csv", "a,label\n" + new string('z', 50_000) + ",x\n");
        var e = Assert.Throws<DataFormatException>(() => CsvDataset.Open(path, new CsvOptions { HasHeader = true }));
        Assert.Contains("is not a number", e.Message);
        Assert.Contains("(50000 characters)", e.Message);
        Assert.True(e.Message.Length < 400, e.Message.Length.ToString());
    }

    // ---- Arrays --------------------------------------------------------------------------------------------

    [Fact]
    public void In_memory_datasets_validate_and_copy_their_arrays()
    {
        float[][] x = [[1, 2], [3, 4], [5, 6]];
        using var data = new InMemoryDataset(x, [1, 0, 1]);
        x[0][0] = 100;
        using (var batch = data.ReadBatch([0, 2]))
        {
            Assert.Equal([1f, 2f, 5f, 6f], Floats(batch.Features));
            Assert.Equal([1L, 1], Longs(batch.Targets));
        }
        Assert.Equal(2, data.ClassCount);

        Assert.Contains("3 examples but 2 labels", Assert.Throws<ArgumentException>(() => new InMemoryDataset(x, [0, 1])).Message);
        Assert.Contains("example 2's features has 1 values but example 1's has 2",
            Assert.Throws<ArgumentException>(() => new InMemoryDataset([[1, 2], [3]], [0, 1])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => new InMemoryDataset([[1, float.NaN]], [0])).Message);
        Assert.Contains("out of range for 2 classes", Assert.Throws<ArgumentException>(() => new InMemoryDataset(x, [0, 1, 2], classCount: 2)).Message);
        Assert.Contains("example 1's target", Assert.Throws<ArgumentException>(() => new InMemoryDataset([[1f]], [[float.PositiveInfinity]])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.ReadBatch([3]).Dispose());

        using var shaped = new InMemoryDataset([[1, 2, 3, 4, 5, 6]], [[1f, 2f]], featureShape: [2, 3]);
        using var shapedBatch = shaped.ReadRange(0, 1);
        Assert.Equal([1L, 2, 3], shapedBatch.Features.shape);
        Assert.Equal([1L, 2], shapedBatch.Targets.shape);
    }

    // ---- Normalisation -------------------------------------------------------------------------------------

    [Fact]
    public void Scaling_divides_by_a_constant()
    {
        using var data = new InMemoryDataset([[0, 255], [51, 102]], [0, 1]);
        using var batch = data.Normalize(Normalization.Scale(255)).ReadRange(0, 2);
        Assert.Equal([0f, 1f, 0.2f, 0.4f], Floats(batch.Features));
    }

    [Fact]
    public void Standardization_computed_on_one_set_applies_to_another()
    {
        // Feature 1: 1, 3, 5, 7 (mean 4, population std sqrt 5); feature 2: constant 2 (std 0, so 1).
        using var training = new InMemoryDataset([[1, 2], [3, 2], [5, 2], [7, 2]], [0, 1, 0, 1]);
        var standardize = Normalization.ComputeStandardization(training, perFeature: true, batchSize: 3);
        Assert.Equal(NormalizationKind.Standardize, standardize.Kind);
        Assert.Equal([4f, 2f], standardize.Mean);
        Assert.Equal(MathF.Sqrt(5), standardize.Std[0], 5);
        Assert.Equal(1f, standardize.Std[1]);

        using var test = new InMemoryDataset([[9, 3]], [0]);
        using var batch = test.Normalize(standardize).ReadRange(0, 1);
        var values = Floats(batch.Features);
        Assert.Equal(5 / MathF.Sqrt(5), values[0], 5);
        Assert.Equal(1f, values[1], 5);

        // The same value rebuilt from its numbers (as a checkpoint would) gives the same result.
        var saved = Normalization.Standardize([.. standardize.Mean], [.. standardize.Std]);
        using var features = torch.tensor(new float[] { 9, 3 }, new long[] { 1, 2 });
        using var again = saved.Apply(features);
        Assert.Equal(values, Floats(again));
        Assert.Equal([9f, 3f], Floats(features)); // Apply leaves its input alone

        var global = Normalization.ComputeStandardization(training, perFeature: false);
        Assert.False(global.PerFeature);
        Assert.Equal(3f, global.Mean[0], 5); // 1, 3, 5, 7 and four 2s
        Assert.Equal(MathF.Sqrt(3.5f), global.Std[0], 5); // squared deviations 4, 0, 4, 16 and four 1s: 28 / 8
    }

    [Fact]
    public void Standardization_of_the_wrong_width_is_an_error()
    {
        using var data = new InMemoryDataset([[1, 2, 3]], [0]);
        var normalization = Normalization.Standardize([0, 0], [1, 1]);
        var e = Assert.Throws<ArgumentException>(() => data.Normalize(normalization).ReadRange(0, 1).Dispose());
        Assert.Contains("computed for examples of 2 values but these have 3", e.Message);
    }

    // ---- Shapes --------------------------------------------------------------------------------------------

    [Fact]
    public void Examples_are_reshaped_to_the_model_when_their_values_agree()
    {
        var mlp = FnnFile.FromSource("model Flat : [784] -> [10] =\n    dense 10\n").CheckedModel();
        var conv = FnnFile.FromSource("model Conv : [1; 28; 28] -> [10] =\n    flatten >> dense 10\n").CheckedModel();
        Assert.Equal([784L], DatasetShapes.Fit([28, 28], mlp));
        Assert.Equal([1L, 28, 28], DatasetShapes.Fit([28, 28], conv));
        Assert.Equal([1L, 28, 28], DatasetShapes.Fit([784], conv));

        using var batch = torch.zeros(5, 28, 28);
        using var shaped = DatasetShapes.Reshape(batch, DatasetShapes.Fit([28, 28], conv));
        Assert.Equal([5L, 1, 28, 28], shaped.shape);
    }

    [Fact]
    public void Examples_that_do_not_fit_the_model_name_both_shapes()
    {
        var mlp = FnnFile.FromSource("model Mlp : [100] -> [10] =\n    dense 10\n").CheckedModel();
        var e = Assert.Throws<ArgumentException>(() => DatasetShapes.Fit([28, 28], mlp));
        Assert.Equal("the data's examples are [28; 28] (784 values) but model Mlp takes [100]", e.Message);
    }

    [Fact]
    public void Named_dimensions_are_bound_from_the_data()
    {
        var smooth = FnnFile.FromSource("model Smooth : [2; len] -> [4; len] =\n    conv1d 4 3 (padding = 1)\n").CheckedModel();
        Assert.Equal([2L, 50], DatasetShapes.Fit([2, 50], smooth));
        Assert.Equal([2L, 50], DatasetShapes.Fit([100], smooth));
        Assert.Contains("takes [2; len]", Assert.Throws<ArgumentException>(() => DatasetShapes.Fit([3, 50], smooth)).Message);
    }

    [Fact]
    public void Targets_are_checked_against_the_model_output()
    {
        var small = FnnFile.FromSource("model Small : [2] -> [2] =\n    dense 2\n").CheckedModel();
        using var three = new InMemoryDataset([[0, 0], [1, 1], [2, 2]], [0, 1, 2]);
        Assert.Contains("the data has 3 classes but model Small outputs [2]",
            Assert.Throws<ArgumentException>(() => DatasetShapes.FitTargets(three, small)).Message);
        using var two = new InMemoryDataset([[0, 0], [1, 1]], [0, 1]);
        Assert.Empty(DatasetShapes.FitTargets(two, small));
        using var values = new InMemoryDataset([[0, 0]], [[1f, 2f]]);
        Assert.Equal([2L], DatasetShapes.FitTargets(values, small));
        using var wrong = new InMemoryDataset([[0, 0]], [[1f, 2f, 3f]]);
        Assert.Equal("the data's targets are [3] (3 values) but model Small outputs [2]",
            Assert.Throws<ArgumentException>(() => DatasetShapes.FitTargets(wrong, small)).Message);
    }

    // ---- Batches -------------------------------------------------------------------------------------------

    [Fact]
    public void Batch_orders_are_seeded_permutations_with_a_smaller_last_batch()
    {
        var order = new BatchOrder(10, 4, seed: 7);
        Assert.Equal(3, order.BatchesPerEpoch);
        Assert.Equal([4, 4, 2], order.Batches(0).Select(b => b.Length));
        var first = order.Order(0);
        Assert.Equal(Enumerable.Range(0, 10), first.Order());
        Assert.Equal(first, new BatchOrder(10, 4, seed: 7).Order(0)); // deterministic
        Assert.NotEqual(first, order.Order(1)); // each epoch its own order
        Assert.NotEqual(first, new BatchOrder(10, 4, seed: 8).Order(0));
        Assert.Equal(first, order.Batches(0).SelectMany(b => b));

        Assert.Equal(Enumerable.Range(0, 10), new BatchOrder(10, 4).Order(3)); // unseeded: in order
        Assert.Equal([4, 4], new BatchOrder(10, 4, seed: 1, dropLast: true).Batches(0).Select(b => b.Length));
    }

    [Fact]
    public void Reading_batches_follows_the_order()
    {
        using var data = new InMemoryDataset(Enumerable.Range(0, 7).Select(i => new float[] { i }).ToArray(), [0, 1, 0, 1, 0, 1, 0]);
        var order = new BatchOrder(7, 3, seed: 42);
        var seen = new List<float>();
        foreach (var batch in data.ReadBatches(order, epoch: 2))
            using (batch)
                seen.AddRange(Floats(batch.Features));
        Assert.Equal(order.Order(2).Select(i => (float)i), seen);
    }

    // ---- Native memory -------------------------------------------------------------------------------------

    [Fact]
    public void Batches_leave_no_native_tensors_behind()
    {
        var images = Write("mem-images-idx3-ubyte.gz", Images(64, 4, 4));
        Write("mem-labels-idx1-ubyte.gz", Labels(Enumerable.Range(0, 64).Select(i => (byte)(i % 3)).ToArray()));
        var csv = Csv("mem.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n");
        using var idx = IdxDataset.Open(images);
        using var table = CsvDataset.Open(csv);
        var standardize = Normalization.ComputeStandardization(idx);
        var normalized = idx.Normalize(standardize);
        var order = new BatchOrder(64, 10, seed: 1);

        var before = LiveTensors;
        for (var epoch = 0; epoch < 3; epoch++)
            foreach (var batch in normalized.ReadBatches(order, epoch))
                batch.Dispose();
        using (var scope = torch.NewDisposeScope())
        {
            var batch = table.ReadRange(0, 3); // left to the scope
            using var applied = Normalization.Scale(2).Apply(batch.Features);
        }
        Normalization.ComputeStandardization(table, perFeature: false);
        Assert.Equal(before, LiveTensors);
    }
}
