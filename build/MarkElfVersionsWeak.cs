using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// Sets VER_FLG_WEAK on the named version requirements (Elf64_Vernaux entries of .gnu.version_r) of
/// little-endian ELF64 files, so that the dynamic loader treats those versions as optional.
/// The patched bytes go to a new file that replaces the old one: the output copy may be a hard link
/// into the NuGet cache, which must stay untouched.
public class MarkElfVersionsWeak : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Versions { get; set; } = "";

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        var wanted = new HashSet<string>(Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries));
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                var marked = Mark(bytes, wanted);
                if (marked.Count == 0) continue;
                var temp = path + ".weak-tmp";
                File.WriteAllBytes(temp, bytes);
                File.Replace(temp, path, null);
                Log.LogMessage(MessageImportance.Normal, $"{path}: marked weak {string.Join(", ", marked)}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                Log.LogError($"{path}: could not mark ELF versions weak: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// Returns the versions newly marked weak in place in `elf`; an empty list means nothing to write.
    static List<string> Mark(byte[] elf, HashSet<string> wanted)
    {
        var marked = new List<string>();
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a little-endian 64-bit ELF file");

        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        ulong Section(int i) => Check(elf, shoff + (ulong)(i * shentsize), 64);
        for (int i = 0; i < shnum; i++)
        {
            var sh = Section(i);
            if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
            ulong offset = U64(elf, sh + 0x18);
            var strtab = Section((int)U32(elf, sh + 0x28));
            ulong strOffset = U64(elf, strtab + 0x18);

            ulong need = offset;
            while (true)
            {
                Check(elf, need, 16);
                int count = U16(elf, need + 2);
                ulong aux = need + U32(elf, need + 8);
                for (int a = 0; a < count; a++)
                {
                    Check(elf, aux, 16);
                    var name = CString(elf, strOffset + U32(elf, aux + 8));
                    ushort flags = (ushort)U16(elf, aux + 4);
                    if (wanted.Contains(name) && (flags & VerFlgWeak) == 0)
                    {
                        elf[aux + 4] = (byte)(flags | VerFlgWeak);
                        marked.Add(name);
                    }
                    uint nextAux = U32(elf, aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(elf, need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        return marked;
    }

    static ulong Check(byte[] b, ulong at, int size) =>
        at + (ulong)size <= (ulong)b.Length ? at : throw new InvalidDataException($"truncated ELF file (offset {at})");
    static int U16(byte[] b, ulong at) => BitConverter.ToUInt16(b, (int)Check(b, at, 2));
    static uint U32(byte[] b, ulong at) => BitConverter.ToUInt32(b, (int)Check(b, at, 4));
    static ulong U64(byte[] b, ulong at) => BitConverter.ToUInt64(b, (int)Check(b, at, 8));
    static string CString(byte[] b, ulong at)
    {
        int start = (int)Check(b, at, 1), end = Array.IndexOf(b, (byte)0, start);
        return Encoding.ASCII.GetString(b, start, (end < 0 ? b.Length : end) - start);
    }
}
