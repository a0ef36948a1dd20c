using System.Runtime.InteropServices;

namespace Functional.Hostile.Corruptions;

/// <summary>
/// Paths that are not regular files — a FIFO (which would block a reader forever), a device without end
/// (/dev/zero), a folder, a dangling link, a loop of links — given as each file fnn reads.
/// </summary>
internal sealed class SpecialPaths : ICorruptions
{
    public string Kind => "path";

    private static readonly string[] Specials = ["a FIFO", "a link to /dev/zero", "a folder", "a dangling link", "a loop of links"];

    public IEnumerable<Attempt> Systematic(Fixture fixture)
    {
        foreach (var special in Specials)
        {
            var source = Path.Combine(fixture.NewFolder(), "special.fnn");
            Make(special, source);
            yield return new(Kind, $"the source is {special}", ["check", source], "special.fnn");

            var folder = fixture.NewFolder();
            Make(special, Path.Combine(folder, "imported.fnn"));
            var importing = Path.Combine(folder, "main.fnn");
            File.WriteAllText(importing, "import \"imported.fnn\"\nmodel A : [2] -> [1] =\n    dense 1\n");
            yield return new(Kind, $"an import is {special}", ["check", importing], "imported.fnn");

            var data = Path.Combine(fixture.NewFolder(), "special.csv");
            Make(special, data);
            yield return new(Kind, $"--data is {special}", ["train", fixture.Source, "--model", "Classes", "--data", data, "--epochs", "1"], "special.csv");

            foreach (var part in new[] { "model.json", "weights.safetensors" })
            {
                var checkpoint = fixture.CopyOf(fixture.Checkpoint);
                File.Delete(Path.Combine(checkpoint, part));
                Make(special, Path.Combine(checkpoint, part));
                yield return Checkpoints.Predict(fixture, checkpoint, Kind, $"{part} is {special}", mustFail: true) with { Culprit = part };
            }
            foreach (var part in new[] { "training.json", "optimizer.bin" })
            {
                var checkpoint = fixture.CopyOf(fixture.Checkpoint);
                File.Delete(Path.Combine(checkpoint, part));
                Make(special, Path.Combine(checkpoint, part));
                yield return Checkpoints.Resume(fixture, checkpoint, Kind, $"{part} is {special}", mustFail: true) with { Culprit = part };
            }
        }
    }

    /// <summary>The list is complete: a random draw repeats one of its cases.</summary>
    public Attempt Random(Fixture fixture, Random random) => Systematic(fixture).ElementAt(random.Next(Specials.Length * 7));

    private static void Make(string special, string path)
    {
        switch (special)
        {
            case "a FIFO":
                if (MakeFifo(path, 0x180) != 0) throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
                break;
            case "a link to /dev/zero": File.CreateSymbolicLink(path, "/dev/zero"); break;
            case "a folder": Directory.CreateDirectory(path); break;
            case "a dangling link": File.CreateSymbolicLink(path, path + ".missing"); break;
            default:
                File.CreateSymbolicLink(path, path + ".loop");
                File.CreateSymbolicLink(path + ".loop", path);
                break;
        }
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
}
