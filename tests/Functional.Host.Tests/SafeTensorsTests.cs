using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Functional.Checkpoints;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Functional.Host.Tests;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string folder =
        Path.Combine(Path.GetTempPath(), "functional-safetensors-tests", Guid.NewGuid().ToString("N"));

    public SafeTensorsTests() => Directory.CreateDirectory(folder);

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private string PathOf(string name) => Path.Combine(folder, name);

    private static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    // ---- round trips ------------------------------------------------------------------------------------------

    // Every supported dtype with its libtorch code (TorchSharp 0.107 has no names for U16/U32/U64/F8) and size.
    public static TheoryData<string, int, int> DTypes => new()
    {
        { "BOOL", 11, 1 }, { "U8", 0, 1 }, { "I8", 1, 1 }, { "F8_E5M2", 23, 1 }, { "F8_E4M3", 24, 1 },
        { "I16", 2, 2 }, { "U16", 27, 2 }, { "F16", 5, 2 }, { "BF16", 15, 2 },
        { "I32", 3, 4 }, { "U32", 28, 4 }, { "F32", 6, 4 },
        { "F64", 7, 8 }, { "I64", 4, 8 }, { "U64", 29, 8 },
    };

    [Theory]
    [MemberData(nameof(DTypes))]
    public void RoundTripIsBitExactForEveryDType(string dtypeName, int scalarTypeCode, int size)
    {
        var scalarType = (ScalarType)scalarTypeCode;
        var path = PathOf("roundtrip.safetensors");
        using var original = torch.empty(new long[] { 3, 5 }, scalarType);
        var random = new Random(scalarTypeCode);
        var bytes = new byte[15 * size];
        random.NextBytes(bytes);
        if (scalarType == ScalarType.Bool)
            for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        original.bytes = bytes;

        SafeTensors.Save(path, [new("t", original)]);

        using var loaded = SafeTensors.Load(path);
        var tensor = loaded.Tensors["t"];
        Assert.Equal(scalarType, tensor.dtype);
        Assert.Equal(new long[] { 3, 5 }, tensor.shape);
        Assert.Equal(bytes, tensor.bytes.ToArray());
        Assert.Equal(dtypeName, loaded.Header.Entries.Single().DType);
        Assert.Equal(DeviceType.CPU, tensor.device_type);
    }

    [Fact]
    public void RoundTripsScalarsEmptyAndNonContiguousTensors()
    {
        var path = PathOf("shapes.safetensors");
        using var scalar = torch.tensor(3.25);
        using var empty = torch.empty(new long[] { 0, 4 }, ScalarType.Float32);
        using var emptyScalarRow = torch.empty(new long[] { 2, 0 }, ScalarType.Int64);
        using var matrix = torch.arange(12, ScalarType.Int32).reshape(3, 4);
        using var transposed = matrix.t();
        Assert.False(transposed.is_contiguous());

        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["scalar"] = scalar, ["empty"] = empty, ["empty2"] = emptyScalarRow, ["transposed"] = transposed,
        });

        using var loaded = SafeTensors.Load(path);
        Assert.Empty(loaded.Tensors["scalar"].shape);
        Assert.Equal(3.25, loaded.Tensors["scalar"].item<double>());
        Assert.Equal(new long[] { 0, 4 }, loaded.Tensors["empty"].shape);
        Assert.Equal(new long[] { 2, 0 }, loaded.Tensors["empty2"].shape);
        Assert.Equal(ScalarType.Int64, loaded.Tensors["empty2"].dtype);
        using var expected = transposed.contiguous();
        Assert.Equal(new long[] { 4, 3 }, loaded.Tensors["transposed"].shape);
        Assert.Equal(expected.bytes.ToArray(), loaded.Tensors["transposed"].bytes.ToArray());
        Assert.Equal(0L, loaded.Header.TryGetEntry("empty", out var entry) ? entry.ByteLength : -1);
    }

    [Fact]
    public void RoundTripsATensorLargerThanOneCopyChunk()
    {
        // The codec moves data in 64 MiB chunks; this tensor spans two of them.
        var path = PathOf("large.safetensors");
        long count = (64L << 20) / sizeof(int) + 3;
        using var original = torch.arange(count, ScalarType.Int32);

        SafeTensors.Save(path, [new("big", original)]);

        using var loaded = SafeTensors.Load(path);
        var big = loaded.Tensors["big"];
        Assert.Equal(new[] { count }, big.shape);
        Assert.True(original.bytes.SequenceEqual(big.bytes));
        Assert.Equal((int)(count - 1), big.ReadCpuInt32(count - 1));
    }

    [Fact]
    public void SavesParametersThatRequireGradAndEmptySets()
    {
        var path = PathOf("param.safetensors");
        using var parameter = new TorchSharp.Modules.Parameter(torch.ones(2, 3));
        SafeTensors.Save(path, [new("w", parameter)]);
        using (var loaded = SafeTensors.Load(path))
        {
            Assert.False(loaded.Tensors["w"].requires_grad);
            Assert.Equal(Enumerable.Repeat(1.0f, 6), loaded.Tensors["w"].data<float>().ToArray());
        }

        SafeTensors.Save(path, []);
        using var none = SafeTensors.Load(path);
        Assert.Empty(none.Tensors);
        Assert.Equal("pt", none.Metadata["format"]);
    }

    // ---- layout -----------------------------------------------------------------------------------------------

    [Fact]
    public void WritesTheReferenceLayout()
    {
        var path = PathOf("layout.safetensors");
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["b"] = torch.zeros(3, ScalarType.Float32),
            ["a"] = torch.zeros(1, ScalarType.Float32),
            ["m"] = torch.zeros(3, ScalarType.Bool),
            ["z"] = torch.zeros(2, ScalarType.Int64),
            ["c"] = torch.zeros(1, ScalarType.BFloat16),
            ["d"] = torch.zeros(3, ScalarType.Float16),
            ["e"] = torch.zeros(5, ScalarType.Byte),
            ["f"] = torch.zeros(1, ScalarType.Int32),
            ["g"] = torch.zeros(1, (ScalarType)28), // U32
            ["h"] = torch.zeros(1, ScalarType.Float64),
        };
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["epoch"] = "3" });

        var file = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0, n % 8);
        var header = file.AsSpan(8, (int)n);
        string text = Encoding.UTF8.GetString(header);
        Assert.StartsWith("{\"__metadata__\":{", text);
        string json0 = text.TrimEnd(' ');
        Assert.EndsWith("}", json0); // padded with spaces only, fewer than 8
        Assert.InRange(text.Length - json0.Length, 0, 7);

        using var json = JsonDocument.Parse(header.ToArray());
        var properties = json.RootElement.EnumerateObject().ToList();
        Assert.Equal("__metadata__", properties[0].Name);
        var metadata = properties[0].Value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(new Dictionary<string, string?> { ["epoch"] = "3", ["format"] = "pt" }, metadata);

        // The reference order: descending dtype (I64 > F64 > F32 > U32 > I32 > BF16 > F16 > U8 > BOOL), then name.
        string[] order = ["z", "h", "a", "b", "g", "f", "c", "d", "e", "m"];
        Assert.Equal(order, properties.Skip(1).Select(p => p.Name));

        long expectedBegin = 0;
        foreach (var property in properties.Skip(1))
        {
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(expectedBegin, offsets[0]);
            int size = property.Value.GetProperty("dtype").GetString() switch
            {
                "I64" or "F64" => 8, "F32" or "U32" or "I32" => 4, "BF16" or "F16" => 2, _ => 1,
            };
            Assert.Equal(0, (8 + n + offsets[0]) % size); // every tensor starts aligned in the file
            expectedBegin = offsets[1];
        }
        Assert.Equal(file.Length, 8 + n + expectedBegin);

        var read = SafeTensors.ReadHeader(path);
        Assert.Equal(order, read.Entries.Select(e => e.Name));
        Assert.Equal(n, read.HeaderLength);
        Assert.Equal(expectedBegin, read.DataLength);
        Assert.True(read.TryGetEntry("g", out var g));
        Assert.Equal("U32", g.DType);
        Assert.Equal(new long[] { 1 }, g.Shape);
    }

    // ---- known answer -----------------------------------------------------------------------------------------

    // One F32 tensor "x" = [1.0, 2.0] with metadata {"format": "pt"}, as the reference writer lays it out.
    private static byte[] KnownAnswerFile()
    {
        byte[] prefix = [88, 0, 0, 0, 0, 0, 0, 0];
        byte[] header = Encoding.ASCII.GetBytes(
            "{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ");
        byte[] data = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40];
        Assert.Equal(88, header.Length);
        return [.. prefix, .. header, .. data];
    }

    [Fact]
    public void LoadsTheKnownAnswerFile()
    {
        var path = PathOf("known.safetensors");
        File.WriteAllBytes(path, KnownAnswerFile());

        using var loaded = SafeTensors.Load(path);
        var x = Assert.Single(loaded.Tensors).Value;
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(new[] { 1.0f, 2.0f }, x.data<float>().ToArray());
        Assert.Equal("pt", Assert.Single(loaded.Metadata).Value);
    }

    [Fact]
    public void SaveProducesTheKnownAnswerBytes()
    {
        var path = PathOf("known-out.safetensors");
        using var x = torch.tensor(new[] { 1.0f, 2.0f });
        SafeTensors.Save(path, [new("x", x)]);
        Assert.Equal(KnownAnswerFile(), File.ReadAllBytes(path));
    }

    [Fact]
    public void LoadsAFileWithoutMetadataOrPadding()
    {
        // Other writers may omit __metadata__ and leave the data unaligned.
        var path = PathOf("plain.safetensors");
        byte[] header = Encoding.ASCII.GetBytes("{\"w\":{\"dtype\":\"I16\",\"shape\":[3],\"data_offsets\":[0,6]}}");
        byte[] prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        File.WriteAllBytes(path, [.. prefix, .. header, 0x01, 0x00, 0xFE, 0xFF, 0x03, 0x00]);

        using var loaded = SafeTensors.Load(path);
        Assert.Empty(loaded.Metadata);
        Assert.Equal(new short[] { 1, -2, 3 }, loaded.Tensors["w"].data<short>().ToArray());
    }

    // ---- hostile and broken files -----------------------------------------------------------------------------

    private static byte[] Build(string headerJson, int dataBytes = 0, ulong? headerLength = null, bool pad = true)
    {
        var header = Encoding.UTF8.GetBytes(headerJson).ToList();
        while (pad && header.Count % 8 != 0) header.Add((byte)' ');
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, headerLength ?? (ulong)header.Count);
        return [.. prefix, .. header, .. new byte[dataBytes]];
    }

    private static string Entry(string dtype, string shape, string offsets) =>
        $"{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    public static TheoryData<string, byte[], string> HostileFiles()
    {
        string f32x1 = Entry("F32", "[1]", "[0,4]");
        string deep = new string('[', 40) + new string(']', 40);
        byte[] notUtf8 = Build("{\"a\":1}");
        notUtf8[10] = 0xFF;
        return new()
        {
            { "shorter than the size prefix", [1, 2, 3], "too short for the 8-byte header size" },
            { "header size over the limit", Build("{}", headerLength: 200_000_000), "exceeds the limit of 100000000 bytes" },
            { "header size 2^64-1", Build("{}", headerLength: ulong.MaxValue), "exceeds the limit" },
            { "truncated header", Build("{}", headerLength: 64), "truncated header" },
            { "empty header", Build("", pad: false), "does not start with '{'" },
            { "header not an object", Build("[1,2]"), "does not start with '{'" },
            { "header not UTF-8", notUtf8, "not valid UTF-8" },
            { "bad JSON", Build("{\"x\":{\"dtype\":\"F32\","), "not valid JSON" },
            { "JSON with trailing text", Build("{} {}"), "not valid JSON" },
            { "JSON nested too deep", Build($"{{\"x\":{deep}}}"), "not valid JSON" },
            { "entry not an object", Build("{\"x\":5}"), "tensor 'x' must be an object" },
            { "missing dtype", Build("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'x' has no \"dtype\"" },
            { "missing shape", Build("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "tensor 'x' has no \"shape\"" },
            { "missing offsets", Build("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "tensor 'x' has no \"data_offsets\"" },
            { "dtype not a string", Build("{\"x\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "dtype that is not a string" },
            { "unknown dtype", Build($"{{\"x\":{Entry("F7", "[1]", "[0,4]")}}}", 4), "tensor 'x' has unknown dtype 'F7'" },
            { "complex dtype", Build($"{{\"x\":{Entry("C64", "[1]", "[0,8]")}}}", 8), "unknown dtype 'C64'" },
            { "negative dimension", Build($"{{\"x\":{Entry("F32", "[-1]", "[0,4]")}}}", 4), "it must be a list of integers" },
            { "fractional dimension", Build($"{{\"x\":{Entry("F32", "[1.5]", "[0,4]")}}}", 4), "it must be a list of integers" },
            { "shape not a list", Build($"{{\"x\":{Entry("F32", "\"1\"", "[0,4]")}}}", 4), "it must be a list of integers" },
            { "dimension over 2^63-1", Build($"{{\"x\":{Entry("F32", "[9223372036854775808]", "[0,4]")}}}", 4), "from 0 to 2^63 - 1" },
            { "three offsets", Build($"{{\"x\":{Entry("F32", "[1]", "[0,4,8]")}}}", 4), "must be two integers [begin, end]" },
            { "offsets as strings", Build($"{{\"x\":{Entry("F32", "[1]", "[\"0\",\"4\"]")}}}", 4), "must be two integers [begin, end]" },
            { "offset over 2^63-1", Build($"{{\"x\":{Entry("F32", "[1]", "[0,18446744073709551615]")}}}", 4), "must be two integers" },
            { "end before begin", Build($"{{\"x\":{Entry("F32", "[1]", "[8,4]")}}}", 8), "end is before its begin" },
            {
                "wrong byte count", Build($"{{\"fc.weight\":{Entry("F32", "[2,4]", "[0,12]")}}}", 12),
                "tensor 'fc.weight' has data_offsets [0, 12] (12 bytes) but shape [2, 4] of F32 needs 32 bytes"
            },
            {
                "element count overflow", Build($"{{\"x\":{Entry("F32", "[4611686018427387904,4611686018427387904]", "[0,4]")}}}", 4),
                "element count overflows"
            },
            { "byte size overflow", Build($"{{\"x\":{Entry("F64", "[2305843009213693952]", "[0,8]")}}}", 8), "byte size overflows" },
            { "first tensor not at 0", Build($"{{\"x\":{Entry("F32", "[1]", "[4,8]")}}}", 8), "not starting at 0" },
            {
                "gap between tensors", Build($"{{\"a\":{f32x1},\"b\":{Entry("F32", "[1]", "[8,12]")}}}", 12),
                "leaving a gap of 4 bytes after tensor 'a'"
            },
            {
                "overlapping tensors", Build($"{{\"a\":{Entry("F32", "[2]", "[0,8]")},\"b\":{Entry("F32", "[1]", "[4,8]")}}}", 8),
                "overlaps tensor 'a'"
            },
            { "trailing bytes", Build($"{{\"x\":{f32x1}}}", 8), "4 trailing bytes" },
            { "truncated data", Build($"{{\"x\":{Entry("F32", "[2]", "[0,8]")}}}", 4), "file is truncated" },
            { "no tensors but data", Build("{}", 1), "1 trailing bytes" },
            { "duplicate tensor", Build($"{{\"x\":{f32x1},\"x\":{f32x1}}}", 4), "duplicate key 'x'" },
            { "duplicate tensor, escaped", Build($"{{\"x\":{f32x1},\"\\u0078\":{f32x1}}}", 4), "duplicate key 'x'" },
            {
                "duplicate field", Build("{\"x\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "tensor 'x' has a duplicate key \"dtype\""
            },
            {
                "duplicate __metadata__", Build("{\"__metadata__\":{},\"__metadata__\":{}}"),
                "duplicate key '__metadata__'"
            },
            {
                "duplicate metadata key", Build("{\"__metadata__\":{\"format\":\"pt\",\"format\":\"tf\"}}"),
                "__metadata__ has a duplicate key 'format'"
            },
            { "metadata not an object", Build("{\"__metadata__\":[\"pt\"]}"), "__metadata__ must be an object" },
            { "metadata value not a string", Build("{\"__metadata__\":{\"epoch\":3}}"), "value for 'epoch' is not a string" },
        };
    }

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void RejectsHostileFiles(string label, byte[] contents, string phrase)
    {
        _ = label; // names the case in test output
        var path = PathOf("hostile.safetensors");
        File.WriteAllBytes(path, contents);
        long live = LiveTensors;

        var loadError = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains(phrase, loadError.Message);
        Assert.StartsWith(path + ": ", loadError.Message);
        Assert.Equal(path, loadError.FilePath);
        Assert.Equal(live, LiveTensors); // nothing allocated, or everything allocated released

        var headerError = Assert.Throws<CheckpointFormatException>(() => SafeTensors.ReadHeader(path));
        Assert.Equal(loadError.Message, headerError.Message);
    }

    [Fact]
    public void RejectsBooleansOtherThanZeroOrOneAndReleasesWhatItAllocated()
    {
        var path = PathOf("bool.safetensors");
        var contents = Build($"{{\"a\":{Entry("F32", "[2]", "[0,8]")},\"flags\":{Entry("BOOL", "[3]", "[8,11]")}}}", 11);
        contents[^2] = 2;
        File.WriteAllBytes(path, contents);
        long live = LiveTensors;

        var error = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Load(path));
        Assert.Contains("tensor 'flags' of dtype BOOL holds the byte 2", error.Message);
        Assert.Equal(live, LiveTensors);
        Assert.Equal(2, SafeTensors.ReadHeader(path).Entries.Count); // the header itself is sound
    }

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        var path = PathOf("missing.safetensors");
        var error = Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(path));
        Assert.Contains("missing.safetensors", error.Message);
        Assert.Throws<FileNotFoundException>(() => SafeTensors.ReadHeader(path));
    }

    // ---- ownership --------------------------------------------------------------------------------------------

    [Fact]
    public void LoadedTensorsBelongToTheFileNotToTheCallersScope()
    {
        var path = PathOf("owned.safetensors");
        File.WriteAllBytes(path, KnownAnswerFile());
        long live = LiveTensors;

        SafeTensorsFile loaded;
        using (torch.NewDisposeScope())
        {
            loaded = SafeTensors.Load(path);
        }
        var x = loaded.Tensors["x"];
        Assert.False(x.IsInvalid); // the caller's scope did not take it
        Assert.Equal(2.0f, x.ReadCpuSingle(1));

        var taken = loaded.Take("x");
        Assert.Empty(loaded.Tensors);
        Assert.Throws<KeyNotFoundException>(() => loaded.Take("x"));
        loaded.Dispose();
        Assert.False(taken.IsInvalid);
        taken.Dispose();
        Assert.Equal(live, LiveTensors);
    }

    [Fact]
    public void DisposingTheFileDisposesItsTensorsAndSaveLeaksNothing()
    {
        var path = PathOf("dispose.safetensors");
        long live = LiveTensors;
        using (var a = torch.ones(4, 4))
        using (var b = torch.ones(3, ScalarType.Int64))
        {
            SafeTensors.Save(path, [new("a", a), new("b", b)]);
        }
        Assert.Equal(live, LiveTensors);

        var loaded = SafeTensors.Load(path);
        var tensors = loaded.Tensors.Values.ToList();
        loaded.Dispose();
        Assert.All(tensors, t => Assert.True(t.IsInvalid));
        Assert.Throws<ObjectDisposedException>(() => loaded.Tensors);
        Assert.Equal(live, LiveTensors);
    }

    // ---- Save's argument checks and metadata ------------------------------------------------------------------

    [Fact]
    public void SaveRejectsBadInputWithoutCreatingAFile()
    {
        var path = PathOf("rejected.safetensors");
        using var x = torch.ones(2);
        using var complex = torch.zeros(2, ScalarType.ComplexFloat32);
        var disposed = torch.ones(2);
        disposed.Dispose();

        var duplicate = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("x", x), new("x", x)]));
        Assert.Contains("Duplicate tensor name 'x'", duplicate.Message);
        var unsupported = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("c", complex)]));
        Assert.Contains("'c' has element type ComplexFloat32, which safetensors cannot hold", unsupported.Message);
        var reserved = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("__metadata__", x)]));
        Assert.Contains("reserved", reserved.Message);
        var gone = Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("d", disposed)]));
        Assert.Contains("'d' has been disposed", gone.Message);

        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public void MetadataRoundTripsAndAnExplicitFormatIsKept()
    {
        var path = PathOf("metadata.safetensors");
        using var x = torch.ones(1);
        SafeTensors.Save(path, [new("x", x)], new Dictionary<string, string> { ["note"] = "héllo \"quoted\"", ["format"] = "mlx" });

        var header = SafeTensors.ReadHeader(path);
        Assert.Equal("héllo \"quoted\"", header.Metadata["note"]);
        Assert.Equal("mlx", header.Metadata["format"]);
    }

    // ---- atomic write -----------------------------------------------------------------------------------------

    private static IEnumerable<KeyValuePair<string, Tensor>> ThrowsAfterFirst(Tensor first)
    {
        yield return new("first", first);
        throw new InvalidOperationException("enumeration failed");
    }

    // Yields two tensors, then disposes the second once Save has planned it, so writing fails after the
    // header and the first tensor's data are already in the temporary file.
    private static IEnumerable<KeyValuePair<string, Tensor>> SecondDiesBeforeItIsWritten(Tensor first, Tensor second)
    {
        yield return new("first", first);
        yield return new("second", second);
        second.Dispose();
    }

    [Fact]
    public void AFailedSaveLeavesTheOldFileIntactAndNoTemporaryFile()
    {
        var path = PathOf("model.safetensors");
        using (var old = torch.full(new long[] { 4 }, 7.0f))
        {
            SafeTensors.Save(path, [new("old", old)]);
        }
        var before = File.ReadAllBytes(path);

        using var wide = torch.ones(8, ScalarType.Float64); // F64 is written before F32
        var error = Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, ThrowsAfterFirst(wide)));
        Assert.Equal("enumeration failed", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));

        var narrow = torch.ones(8, ScalarType.Float32);
        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, SecondDiesBeforeItIsWritten(wide, narrow)));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));

        using var loaded = SafeTensors.Load(path);
        Assert.Equal(new[] { 7.0f, 7.0f, 7.0f, 7.0f }, loaded.Tensors["old"].data<float>().ToArray());
    }

    [Fact]
    public void AFailedFirstSaveCreatesNoFileAndASuccessfulSaveReplacesTheOld()
    {
        var path = PathOf("fresh.safetensors");
        using var x = torch.ones(3);
        var y = torch.ones(3, ScalarType.Int32);
        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, SecondDiesBeforeItIsWritten(x, y)));
        Assert.Empty(Directory.GetFiles(folder));

        SafeTensors.Save(path, [new("x", x)]);
        using var z = torch.zeros(5, ScalarType.Int64);
        SafeTensors.Save(path, [new("z", z)]);
        Assert.Equal(new[] { path }, Directory.GetFiles(folder));
        using var loaded = SafeTensors.Load(path);
        Assert.Equal(new[] { "z" }, loaded.Tensors.Keys);
    }
}
