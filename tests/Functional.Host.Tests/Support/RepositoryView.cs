namespace Functional.Host.Tests.Support;

/// <summary>
/// A temporary folder that looks like the repository root (a symbolic link to each of its entries) and also
/// holds the files a document shows under names of their own (<c>file=raw.fnn</c>): its transcripts run there,
/// so that they name files as a reader in the repository root would, and write nothing into the repository.
/// </summary>
internal sealed class RepositoryView : IDisposable
{
    public RepositoryView(IEnumerable<DocumentBlock> files)
    {
        Root = Directory.CreateTempSubdirectory("functional-docs-").FullName;
        var own = files.ToList();
        foreach (var file in own)
            if (file.FileName!.Contains('/') || Path.Exists(Path.Combine(Repository.Root, file.FileName)))
                throw new InvalidDataException($"{file.Place}: a file of its own is named by a plain name that no entry of the repository root has, not '{file.FileName}'");
        foreach (var entry in new DirectoryInfo(Repository.Root).EnumerateFileSystemInfos())
        {
            if (entry.Name == ".git") continue;
            var link = Path.Combine(Root, entry.Name);
            if (entry is DirectoryInfo) Directory.CreateSymbolicLink(link, entry.FullName);
            else File.CreateSymbolicLink(link, entry.FullName);
        }
        foreach (var file in own) File.WriteAllText(Path.Combine(Root, file.FileName!), file.Text);
    }

    public string Root { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true); // deletes the links, not what they point to
}
