using System.Text.Json;
using Functional.Checkpoints;
using Functional.Host.Tests.Support;
using Functional.Networks;

namespace Functional.Host.Tests;

/// <summary>
/// Weights trained in PyTorch: tests/fixtures/torch's state_dict (made by make_state_dict.py with Debian's
/// python3-torch), its names mapped by a <see cref="KeyMap"/> onto torchy.fnn's paths, predict what torch did; and
/// the key map's rules and errors.
/// </summary>
public sealed class TorchStateDictTests : IDisposable
{
    private static readonly string Fixture = Path.Combine(Repository.Root, "tests", "fixtures", "torch");
    private const string TorchNames = "features.*=enc.*; classifier.*=head.*; version=";

    private readonly string folder = Directory.CreateTempSubdirectory("functional-keymap-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static Network Torchy() => FnnFile.Load(Path.Combine(Fixture, "torchy.fnn")).Compile("Torchy", new NetworkOptions { Seed = 1 });

    private static Func<string, string> Using(KeyMap map) => name => map.Map(name)!;

    // ---- the fixture -----------------------------------------------------------------------------------

    [Fact]
    public void A_torch_state_dict_mapped_by_a_key_map_predicts_what_torch_predicted()
    {
        using var file = SafeTensors.Load(Path.Combine(Fixture, "state_dict.safetensors"));
        Assert.Equal(["classifier.bias", "classifier.weight", "features.0.bias", "features.0.weight", "version"], file.Tensors.Keys.Order());
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture, "expected.json")));
        var inputs = Rows(expected.RootElement.GetProperty("inputs"));
        var outputs = Rows(expected.RootElement.GetProperty("outputs"));

        using var network = Torchy();
        var before = network.Predict(inputs);
        var report = network.Compiled.Store.Load(file.Tensors, Using(KeyMap.Parse(TorchNames)));
        Assert.Equal(["enc.0.bias", "enc.0.weight", "head.bias", "head.weight"], report.Loaded.Order());
        Assert.Equal(new[] { "version" }, report.Ignored);
        Assert.Empty(report.Missing);

        var after = network.Predict(inputs);
        Assert.Equal(outputs.Length, after.Length);
        for (var i = 0; i < outputs.Length; i++)
            for (var j = 0; j < outputs[i].Length; j++)
                Assert.True(Math.Abs(after[i][j] - outputs[i][j]) <= 1e-5, $"example {i}, output {j}: {after[i][j]}, torch gave {outputs[i][j]}");
        // The seeded weights it had before predict otherwise: the comparison can fail.
        Assert.True(Math.Abs(before[1][0] - outputs[1][0]) > 1e-3);
    }

    [Fact]
    public void Starting_from_a_torch_state_dict_file_with_a_key_map_predicts_what_torch_predicted_and_reports_the_mapping()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture, "expected.json")));
        var inputs = Rows(expected.RootElement.GetProperty("inputs"));
        var outputs = Rows(expected.RootElement.GetProperty("outputs"));
        using var network = Torchy();
        var mapping = network.StartFrom(Path.Combine(Fixture, "state_dict.safetensors"), KeyMap.Parse(TorchNames));
        Assert.Equal(["enc.0.bias", "enc.0.weight", "head.bias", "head.weight"], mapping.Loaded.Order());
        Assert.Empty(mapping.New);
        Assert.Equal("version", Assert.Single(mapping.LeftOut).Key);
        var after = network.Predict(inputs);
        for (var i = 0; i < outputs.Length; i++)
            for (var j = 0; j < outputs[i].Length; j++)
                Assert.True(Math.Abs(after[i][j] - outputs[i][j]) <= 1e-5, $"example {i}, output {j}: {after[i][j]}, torch gave {outputs[i][j]}");
        // Without the key map none of torch's names is a path of Torchy: an error that says so and asks for one.
        using var plain = Torchy();
        var e = Assert.Throws<CheckpointMismatchException>(() => plain.StartFrom(Path.Combine(Fixture, "state_dict.safetensors")));
        Assert.Contains("give a key map", e.Message);
    }

    [Fact]
    public void The_same_weights_from_a_json_key_map_file()
    {
        var path = Path.Combine(folder, "keys.json");
        File.WriteAllText(path, """{ "features.*": "enc.*", "classifier.*": "head.*", "version": null }""");
        var map = KeyMap.Load(path);
        Assert.Equal(TorchNames, map.ToString());
        using var file = SafeTensors.Load(Path.Combine(Fixture, "state_dict.safetensors"));
        using var network = Torchy();
        Assert.Equal(4, network.Compiled.Store.Load(file.Tensors, Using(map)).Loaded.Length);
    }

    [Fact]
    public void Names_no_rule_maps_and_shapes_that_differ_are_errors_naming_the_path_and_both_shapes()
    {
        using var file = SafeTensors.Load(Path.Combine(Fixture, "state_dict.safetensors"));
        using var network = Torchy();
        var store = network.Compiled.Store;
        using var weight = store["head.weight"].Tensor.clone();

        // Without the classifier's rule its names stay as they are: the network has no such paths.
        var unmapped = Assert.Throws<ArgumentException>(() => store.Load(file.Tensors, Using(KeyMap.Parse("features.*=enc.*; version="))));
        Assert.Contains("'classifier.weight' goes to 'classifier.weight', which this network does not have", unmapped.Message);

        // The head's weight into the encoder's: [3, 8] where [8, 4] is.
        var swapped = KeyMap.Parse("classifier.weight=enc.0.weight; classifier.bias=head.bias; features.0.bias=enc.0.bias; features.0.weight=head.weight; version=");
        var shapes = Assert.Throws<ArgumentException>(() => store.Load(file.Tensors, Using(swapped)));
        Assert.Contains("'classifier.weight' has shape", shapes.Message);
        Assert.Contains("but 'enc.0.weight' has", shapes.Message);
        Assert.Matches(@"'classifier\.weight' has shape \S*3\D+8\S* but 'enc\.0\.weight' has \S*8\D+4", shapes.Message);
        // Nothing was copied.
        Assert.True(weight.eq(store["head.weight"].Tensor).all().item<bool>());

        using var a = TorchSharp.torch.zeros(3);
        using var b = TorchSharp.torch.ones(3);
        var pair = new Dictionary<string, TorchSharp.torch.Tensor> { ["a.bias"] = a, ["b.bias"] = b };
        var twice = Assert.Throws<ArgumentException>(() => store.Load(pair, Using(KeyMap.Parse("*.bias=head.bias"))));
        Assert.Contains("two of the source's names go to 'head.bias'", twice.Message);
    }

    private static float[][] Rows(JsonElement rows) =>
        rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();

    // ---- the key map -----------------------------------------------------------------------------------

    [Fact]
    public void The_first_matching_rule_wins_stars_carry_text_and_an_empty_to_leaves_a_tensor_out()
    {
        var map = KeyMap.Parse("*.num_batches_tracked= ; features.*=enc.*;\nclassifier.weight=head.weight\nblocks.*.attn.*=layers.*.attention.*; *=rest.*");
        Assert.Null(map.Map("features.1.num_batches_tracked"));
        Assert.Equal("enc.0.weight", map.Map("features.0.weight"));
        Assert.Equal("enc.", map.Map("features.")); // a star matches empty text too
        Assert.Equal("head.weight", map.Map("classifier.weight"));
        Assert.Equal("layers.3.attention.q.weight", map.Map("blocks.3.attn.q.weight"));
        Assert.Equal("rest.classifier.bias", map.Map("classifier.bias"));
        Assert.Equal(5, map.Rules.Count);
        Assert.Equal(KeyValuePair.Create("*.num_batches_tracked", ""), map.Rules[0]);

        var partial = KeyMap.Parse(["a.weight=b.weight", "c.*=d"]);
        Assert.Equal("b.weight", partial.Map("a.weight"));
        Assert.Equal("d", partial.Map("c.anything")); // a to without stars is one path
        Assert.Equal("a.bias", partial.Map("a.bias")); // no rule: kept as it is
        Assert.Equal("x.y", KeyMap.Identity.Map("x.y"));
        Assert.Equal("a+b.(x)", KeyMap.Parse("a+b.*=a+b.*").Map("a+b.(x)")); // no character but * is special
    }

    [Theory]
    [InlineData("", "the key map has no rules: expected from=to rules separated by ';'")]
    [InlineData("features.*", "key map rule 1 'features.*' has no '=': expected from=to (an empty to leaves the tensor out)")]
    [InlineData("a=b; =c", "key map rule 2 '=c': the name before '=' is empty")]
    [InlineData("a.*=b; a.*=c", "key map rule 2 'a.*=c': 'a.*' is already rule 1's from")]
    [InlineData("a.*=b.*.*", "key map rule 1 'a.*=b.*.*': the path after '=' has 2 '*' but the name before it has 1: expected as many")]
    public void Malformed_rules_are_named_with_what_was_expected(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => KeyMap.Parse(text));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "the key map is a JSON array: expected an object {\"from\": \"to\", ...}")]
    [InlineData("{}", "the key map has no rules")]
    [InlineData("{\"a\": 3}", "\"a\" maps to a JSON number: expected a string")]
    [InlineData("{\"a\": \"b\", \"a\": \"c\"}", "rule 2 'a=c': 'a' is already rule 1's from")]
    [InlineData("{\"a\": ", "not valid JSON")]
    public void A_bad_key_map_file_is_named_with_the_rule_that_is_wrong(string json, string expected)
    {
        var path = Path.Combine(folder, "bad.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<FormatException>(() => KeyMap.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_key_map_file_is_opened_by_the_file_rule()
    {
        Assert.Throws<FileNotFoundException>(() => KeyMap.Load(Path.Combine(folder, "missing.json")));
        var e = Assert.Throws<Functional.Files.NotRegularFileException>(() => KeyMap.Load(folder));
        Assert.Contains("a folder, not a file", e.Message);
    }
}
