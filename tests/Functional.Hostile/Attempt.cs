namespace Functional.Hostile;

/// <summary>
/// One hostile input and the command run on it.
/// </summary>
/// <param name="Kind">the kind of file or input corrupted (weights, model.json, optimizer.bin, training.json, csv, idx,
/// source, path, flag): the rows of the report</param>
/// <param name="What">what was done to it, for the report and for reproducing it</param>
/// <param name="Arguments">fnn's command line</param>
/// <param name="Culprit">the text a clear error must contain: the corrupted file's name, or the flag's</param>
/// <param name="MustFail">true when no right answer exists (success would be a silently wrong result); false when the
/// corruption may leave a valid input (a changed weight value, a changed comment)</param>
internal sealed record Attempt(string Kind, string What, string[] Arguments, string Culprit, bool MustFail = true);
