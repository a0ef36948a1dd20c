/// Loads the engine (libtorch and TorchSharp's native shim) and explains why when it can't.
module Functional.Engine

open System
open System.IO
open System.Runtime.InteropServices

/// The engine could not start; the message names the real cause (the loader's own words).
exception EngineUnavailable of string

/// The libraries TorchSharp needs, in dependency order (libtorch first, then the shim that binds it).
let private libraries =
    [ "libgomp-98b21ff3.so.1"; "libc10.so"; "libtorch_cpu.so"; "libtorch.so"; "libLibTorchSharp.so" ]

/// Folders where a build output keeps the natives: next to the assemblies, or under runtimes/ when the
/// output is not for one runtime identifier.
let private candidateFolders () =
    let baseDirs =
        [ Path.GetDirectoryName(typeof<TorchSharp.torch.Tensor>.Assembly.Location)
          AppContext.BaseDirectory ]
        |> List.filter (String.IsNullOrEmpty >> not)
        |> List.distinct
    [ for d in baseDirs do
          yield Path.Combine(d, "runtimes", "linux-x64", "native")
          yield d ]

let private loadNatives () =
    if not (RuntimeInformation.IsOSPlatform OSPlatform.Linux) then
        Ok "" // elsewhere TorchSharp's own loader finds its natives
    else
        match candidateFolders () |> List.tryFind (fun d -> File.Exists(Path.Combine(d, "libLibTorchSharp.so"))) with
        | None -> Ok "" // not a build output we know: let TorchSharp search, and explain its failure below
        | Some folder ->
            // Loading by absolute path first makes the loader's later loads by name find them, also in
            // F# Interactive, where TorchSharp cannot find them through a deps.json.
            libraries
            |> List.map (fun lib -> Path.Combine(folder, lib))
            |> List.filter File.Exists
            |> List.tryPick (fun path ->
                try
                    NativeLibrary.Load path |> ignore
                    None
                with e -> Some(sprintf "%s could not be loaded: %s" path e.Message))
            |> function
                | Some failure -> Error failure
                | None -> Ok folder

let private hint (cause: string) =
    if cause.Contains "GLIBCXX" then
        " This copy of libLibTorchSharp.so asks for a newer libstdc++ than this system has. Functional's build "
        + "marks that version requirement weak in the copy it puts in each build output: load Functional from "
        + "an output of dotnet build, run or publish, not from the NuGet cache."
    else ""

/// Starts the engine once per process; later calls return at once. Safe to call from any thread.
let private started =
    lazy (
        match loadNatives () with
        | Error cause -> Error(cause + hint cause)
        | Ok _ ->
            try
                // The first use of `torch` runs TorchSharp's own loader; surface its inner cause.
                TorchSharp.torch.InitializeDeviceType TorchSharp.DeviceType.CPU
                Ok()
            with e ->
                let rec innermost (e: exn) = if isNull e.InnerException then e else innermost e.InnerException
                let cause = (innermost e).Message
                Error(sprintf "the engine (libtorch) could not start: %s%s" cause (hint cause)))

/// Makes sure libtorch is loaded; raises EngineUnavailable with the real cause when it cannot be.
let ensureStarted () =
    match started.Force() with
    | Ok() -> ()
    | Error message -> raise (EngineUnavailable message)
