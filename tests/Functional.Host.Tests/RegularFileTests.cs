using System.Runtime.InteropServices;
using Functional.Checkpoints;
using Functional.Data;
using Functional.Networks;
using Functional.Training;

namespace Functional.Host.Tests;

/// <summary>
/// Every reader opens only regular files (Functional.Files): a named pipe would block the open forever and
/// /dev/zero never ends, so both, and a folder, are refused at once with the path and what it is.
/// </summary>
public sealed class RegularFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("functional-regular-tests-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, uint mode);

    private string Fifo(string name)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Assert.Equal(0, mkfifo(path, 0x180)); // 0600
        return path;
    }

    private string Link(string name, string target)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
        return path;
    }

    private static bool Waited(Task task)
    {
        try { return task.Wait(TimeSpan.FromSeconds(20)); }
        catch (AggregateException) { return true; }
    }

    private static void AssertNotRegular(Exception e, string path, string what)
    {
        Assert.IsType<Files.NotRegularFileException>(e);
        Assert.Contains(path, e.Message);
        Assert.Contains(what, e.Message);
    }

    private void Each(Action<string> read, string name)
    {
        var fifo = Fifo("pipes/" + name);
        AssertNotRegular(Guard(() => read(fifo), fifo), fifo, "named pipe");
        var toZero = Link("zero/" + name, "/dev/zero");
        AssertNotRegular(Guard(() => read(toZero)), toZero, "character device");
        var toFifo = Link("links/" + name, fifo);
        AssertNotRegular(Guard(() => read(toFifo), fifo), toFifo, "named pipe");
        var folderPath = Path.Combine(folder, "folders", name);
        Directory.CreateDirectory(folderPath);
        var e = Guard(() => read(folderPath));
        Assert.Contains(folderPath, e.Message);
    }

    /// <summary>Runs <paramref name="read"/> with a hang guard and returns what it threw. A read that blocks
    /// on the pipe fails the test; the pipe is then opened for writing, which releases it.</summary>
    private static Exception Guard(Action read, string? pipe = null)
    {
        var task = Task.Run(read);
        if (!Waited(task))
        {
            if (pipe is not null) using (File.OpenWrite(pipe)) { }
            Assert.Fail("the read blocked instead of refusing the file");
        }
        Assert.True(task.IsFaulted, "the read succeeded");
        return task.Exception!.InnerException!;
    }

    [Fact]
    public void Sources_that_are_not_regular_files_are_refused()
    {
        Each(path => FnnFile.Load(path), "net.fnn");
        AssertNotRegular(Guard(() => FnnFile.Load("/dev/zero")), "/dev/zero", "character device");
    }

    [Fact]
    public void An_import_that_is_a_pipe_is_a_diagnostic_not_a_hang()
    {
        Fifo("blocks.fnn");
        var main = Path.Combine(folder, "main.fnn");
        File.WriteAllText(main, "import \"blocks.fnn\"\nmodel M : [2] -> [2] = dense 2\n");
        var e = Guard(() => FnnFile.Load(main), Path.Combine(folder, "blocks.fnn"));
        var compile = Assert.IsType<FnnCompileException>(e);
        Assert.Contains("blocks.fnn", compile.Message + string.Join("\n", compile.Diagnostics.Select(d => d.Message)));
        Assert.Contains("named pipe", compile.Message);
    }

    [Fact]
    public void Data_files_that_are_not_regular_files_are_refused()
    {
        Each(path => CsvDataset.Open(path), "data.csv");
        Each(path => IdxDataset.Open(path, path), "images.idx");
    }

    [Fact]
    public void Checkpoint_parts_that_are_not_regular_files_are_refused()
    {
        Each(path => SafeTensors.Load(path), "weights.safetensors");
        Each(path => SafeTensors.ReadHeader(path), "header.safetensors");
        Each(path => Checkpoint.ReadMetadata(Path.GetDirectoryName(path)!), "m/" + Checkpoint.MetadataFile);
        Each(path => TrainingState.Load(Path.GetDirectoryName(path)!), "t/" + TrainingState.StateFile);
    }

    [Fact]
    public void An_optimizer_state_that_is_a_pipe_is_refused()
    {
        var pipe = Fifo("o/" + TrainingState.OptimizerFile);
        File.WriteAllText(Path.Combine(folder, "o", TrainingState.StateFile), "{}");
        var e = Guard(() => TrainingState.Load(Path.Combine(folder, "o")), pipe);
        // Whatever else the state lacks, the pipe is never opened: either it is named, or the JSON was refused first.
        Assert.True(e is Files.NotRegularFileException || e is CheckpointFormatException, e.ToString());
        if (e is Files.NotRegularFileException) Assert.Contains(TrainingState.OptimizerFile, e.Message);
    }

    [Fact]
    public void Readers_with_limits_refuse_long_files_before_reading_them()
    {
        var path = Path.Combine(folder, "big.json");
        using (var f = File.Create(path)) f.SetLength(1L << 30); // sparse: costs no disk
        var e = Assert.ThrowsAny<IOException>(() => Functional.Files.readText(1 << 20, path));
        Assert.Contains("1073741824 bytes", e.Message);
        Assert.Contains(path, e.Message);
    }
}
