/// SIGINT (Ctrl+C) and SIGTERM (what `timeout`, `kill` and service managers send) stop a training run the
/// same way: the first asks the session to stop at the next step boundary, where the checkpoint is whole; a
/// second ends the process at once (a checkpoint being written is replaced only when complete, so it survives).
module Functional.Cli.StopSignals

open System
open System.Runtime.InteropServices
open System.Threading
open Functional.Cli.Output

/// The C library's `_exit`: ends the process without running exit handlers. Environment.Exit runs them, libtorch's
/// among them, while the training thread may still be inside libtorch, which crashed the process (exit code 139).
module private Native =
    [<DllImport("libc", EntryPoint = "_exit")>]
    extern void exitNow(int code)

/// Ends the process at once with `code`, its output flushed.
let private stopNow (code: int) =
    Console.Out.Flush()
    Console.Error.Flush()
    if OperatingSystem.IsWindows() then Environment.Exit code else Native.exitNow code

/// Listens for both signals while it lives; `Token` is cancelled by the first one.
type Listener() =
    let source = new CancellationTokenSource()
    // 0 until the first signal, then that signal's exit code; written once, under the lock.
    let mutable stoppedWith = 0
    let exitCodeOf (signal: PosixSignal) = if signal = PosixSignal.SIGTERM then Exit.terminated else Exit.cancelled
    let nameOf (signal: PosixSignal) = if signal = PosixSignal.SIGTERM then "SIGTERM" else "Ctrl+C"
    let handle (context: PosixSignalContext) =
        context.Cancel <- true // never the runtime's default, which would end the process mid-step
        lock source (fun () ->
            if stoppedWith = 0 then
                stoppedWith <- exitCodeOf context.Signal
                error (sprintf "%s: stopping after the current step (send it again to stop at once)" (nameOf context.Signal))
                source.Cancel()
            else
                error (sprintf "%s again: stopping now" (nameOf context.Signal))
                stopNow (exitCodeOf context.Signal))
    let registrations =
        [ PosixSignal.SIGINT; PosixSignal.SIGTERM ]
        |> List.map (fun s -> PosixSignalRegistration.Create(s, Action<PosixSignalContext> handle))

    /// Cancelled when the first signal arrives.
    member _.Token = source.Token

    /// The exit code of a stopped run: 130 after Ctrl+C, 143 after SIGTERM (as shells report them).
    member _.ExitCode = lock source (fun () -> if stoppedWith = 0 then Exit.cancelled else stoppedWith)

    interface IDisposable with
        member _.Dispose() =
            for r in registrations do r.Dispose()
            source.Dispose()
