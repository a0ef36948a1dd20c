using Functional.Host.Tests.Support;
using Functional.Networks;

namespace Functional.Host.Tests;

/// <summary>
/// Every example and command that dsl/README.md and README.md show, run and compared, by the convention at
/// the top of dsl/README.md: a <c>```fsharp</c> block passes <c>fnn check</c>; a <c>```fsharp file=PATH</c> block is
/// that file of the repository, or a file of its own that a transcript uses; a transcript (<c>$ fnn ...</c>)
/// prints what it shows. The text cannot drift from the code without one of these failing.
/// </summary>
public sealed class DocumentExampleTests
{
    public static TheoryData<string, int> CheckedSources() => Places(b => b.IsCheckedSource);
    public static TheoryData<string, int> RepositoryFiles() => Places(b => b.FileName is { } f && InRepository(f));
    public static TheoryData<string, int> Transcripts() => Places(b => b.IsTranscript);

    [Theory]
    [MemberData(nameof(CheckedSources))]
    public void A_source_block_passes_fnn_check(string document, int line)
    {
        var block = DocumentBlocks.At(document, line);
        // Named as a file beside the document, so that its imports resolve from there.
        var name = Path.Combine(Repository.Root, Path.GetDirectoryName(document)!, $"block-at-line-{line}.fnn");
        try
        {
            FnnFile.FromSource(block.Text, name);
        }
        catch (FnnCompileException e)
        {
            Assert.Fail($"{block.Place}: this block fails fnn check (mark it 'fsharp fragment' if it is part of a file, or name it and show its diagnostics):\n{e.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(RepositoryFiles))]
    public void A_block_named_after_a_file_of_the_repository_shows_that_file(string document, int line)
    {
        var block = DocumentBlocks.At(document, line);
        var file = File.ReadAllText(Path.Combine(Repository.Root, block.FileName!)).Replace("\r\n", "\n");
        Assert.True(file == block.Text, $"{block.Place}: this block differs from {block.FileName}:\n{block.Text}\n--- the file:\n{file}");
    }

    [Theory]
    [MemberData(nameof(Transcripts))]
    public void A_transcript_prints_what_the_document_shows(string document, int line)
    {
        var block = DocumentBlocks.At(document, line);
        using var view = new RepositoryView(OwnFiles(document));
        var mismatches = TranscriptCommand.Parse(block)
            .Select(command => command.Mismatch(Processes.DotnetIn(view.Root, command.DotnetArguments())))
            .OfType<string>().ToList();
        Assert.True(mismatches.Count == 0, $"{block.Place}:\n{string.Join('\n', mismatches)}");
    }

    [Fact]
    public void Every_file_a_document_shows_under_a_name_of_its_own_is_run_by_one_of_its_transcripts()
    {
        foreach (var document in DocumentBlocks.Documents)
        {
            var commands = DocumentBlocks.Read(document).Where(b => b.IsTranscript).SelectMany(TranscriptCommand.Parse).ToList();
            foreach (var file in OwnFiles(document))
                Assert.True(commands.Any(c => c.CommandLine.Split(' ').Contains(file.FileName)),
                    $"{file.Place}: no transcript of {document} runs {file.FileName}, so nothing checks it");
        }
    }

    [Fact]
    public void The_documents_show_examples_of_every_kind()
    {
        // Guards the convention itself: if the blocks stopped being recognised, every theory above would be empty.
        var blocks = DocumentBlocks.All().ToList();
        Assert.True(blocks.Count(b => b.IsCheckedSource) >= 10);
        Assert.True(blocks.Count(b => b.IsTranscript) >= 10);
        Assert.True(blocks.Count(b => b.FileName is not null) >= 5);
    }

    private static IEnumerable<DocumentBlock> OwnFiles(string document) =>
        DocumentBlocks.Read(document).Where(b => b.FileName is { } f && !InRepository(f));

    private static bool InRepository(string file) => File.Exists(Path.Combine(Repository.Root, file));

    private static TheoryData<string, int> Places(Func<DocumentBlock, bool> which)
    {
        var data = new TheoryData<string, int>();
        foreach (var block in DocumentBlocks.All().Where(which)) data.Add(block.Document, block.Line);
        return data;
    }
}
