namespace Functional.Bench.Harness;

/// <summary>The repository the benchmark runs in: it reads the example networks from there.</summary>
public static class Repository
{
    public static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Functional.sln")))
                    return dir.FullName;
        }
        throw new DirectoryNotFoundException("the benchmark runs inside the Functional repository (no Functional.sln above it)");
    }
}
