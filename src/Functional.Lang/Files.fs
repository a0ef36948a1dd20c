/// The one way Functional opens a file a user named: only a regular file (after following links). A named
/// pipe would block the open until a writer comes, and a device such as /dev/zero never ends, so both are
/// refused by what the path is, before anything opens it.
module Functional.Files

open System
open System.IO
open System.Runtime.InteropServices
open Microsoft.Win32.SafeHandles

/// A path that names something other than a regular file (a folder, a named pipe, a device, a socket).
type NotRegularFileException(path: string, message: string) =
    inherit IOException(message)
    /// The path as it was given.
    member _.Path = path

/// .NET's own native shim: its FileStatus has the same layout on every Unix (Flags, then Mode, at byte 4),
/// unlike libc's struct stat, and its file-type bits are the Linux values on every platform.
module private Native =
    [<DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)>]
    extern int stat(string path, byte[] status)

    [<DllImport("libSystem.Native", EntryPoint = "SystemNative_FStat", SetLastError = true)>]
    extern int fstat(SafeFileHandle handle, byte[] status)

// Larger than FileStatus in any .NET version: the shim writes only its own fields.
let private statusBytes = 512

let private typeOf (status: byte[]) = BitConverter.ToInt32(status, 4) &&& 0xF000

/// What a file of that type is, for a message; None for a regular file.
let private describe (fileType: int) =
    match fileType with
    | 0x8000 -> None
    | 0x4000 -> Some "a folder, not a file"
    | 0x1000 -> Some "a named pipe (FIFO), not a regular file"
    | 0x2000 -> Some "a character device, not a regular file"
    | 0x6000 -> Some "a block device, not a regular file"
    | 0xC000 -> Some "a socket, not a regular file"
    | _ -> Some "not a regular file"

let private named (path: string) = Excerpt.ofText 200 path

/// Why `path` cannot be read as a regular file, after following links ("a named pipe (FIFO), not a regular
/// file"), or None when it is a regular file. A path that does not exist (or cannot be examined) gives None: opening
/// it reports that as usual.
let problem (path: string) : string option =
    if String.IsNullOrEmpty path then None
    elif OperatingSystem.IsWindows() then
        if Directory.Exists path then Some "a folder, not a file" else None
    else
        let status = Array.zeroCreate<byte> statusBytes
        if Native.stat (path, status) <> 0 then None
        else describe (typeOf status)

/// Raises NotRegularFileException when `path` is not a regular file, FileNotFoundException when it does not
/// exist.
let ensureRegular (path: string) =
    match problem path with
    | Some what -> raise (NotRegularFileException(path, sprintf "%s: %s" (named path) what))
    | None ->
        if not (File.Exists path) then raise (FileNotFoundException(sprintf "%s: no such file" (named path), path))

/// Opens `path` for reading, only if it is a regular file (after following links); the opened handle is
/// checked again, so a path swapped for a device in between is refused too.
/// Raises NotRegularFileException (an IOException) naming the path and what it is, FileNotFoundException
/// when there is no file.
let openReadWith (bufferSize: int) (options: FileOptions) (path: string) : FileStream =
    ensureRegular path
    let stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, options)
    if not (OperatingSystem.IsWindows()) then
        let status = Array.zeroCreate<byte> statusBytes
        if Native.fstat (stream.SafeFileHandle, status) = 0 then
            match describe (typeOf status) with
            | Some what ->
                stream.Dispose()
                raise (NotRegularFileException(path, sprintf "%s: %s" (named path) what))
            | None -> ()
    stream

/// `openReadWith` with a 64 KB buffer and no special options.
let openRead (path: string) = openReadWith 65536 FileOptions.None path

let private tooLarge (path: string) (length: int64) (limit: int64) =
    IOException(sprintf "%s: the file is %d bytes, more than the %d bytes it may have" (named path) length limit)

/// All the bytes of a regular file of at most `limit` bytes (checked before anything is read).
let readBytes (limit: int64) (path: string) : byte[] =
    use stream = openRead path
    let length = stream.Length
    if length > limit || length > int64 Array.MaxLength then raise (tooLarge path length limit)
    let bytes = Array.zeroCreate<byte> (int length)
    stream.ReadExactly(bytes, 0, bytes.Length)
    bytes

/// The text (UTF-8, or as its byte-order mark says) of a regular file of at most `limit` bytes (checked
/// before anything is read).
let readText (limit: int64) (path: string) : string =
    use stream = openRead path
    if stream.Length > limit then raise (tooLarge path stream.Length limit)
    use reader = new StreamReader(stream, Text.Encoding.UTF8, detectEncodingFromByteOrderMarks = true)
    reader.ReadToEnd()
