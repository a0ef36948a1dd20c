// Loads Functional into F# Interactive. Build first (`dotnet build`), then in a script:
//     #load "../../repl/prelude.fsx"      (path relative to your script)
// or start a session with it:  dotnet fsi --use:repl/prelude.fsx
//
// It references the Debug build of Functional.Host, whose output holds TorchSharp and libtorch, and
// starts the engine from there (F# Interactive cannot find libtorch through a deps.json on its own).

#r "../src/Functional.Host/bin/Debug/net10.0/TorchSharp.dll"
#r "../src/Functional.Host/bin/Debug/net10.0/Functional.Lang.dll"
#r "../src/Functional.Host/bin/Debug/net10.0/Functional.Host.dll"

Functional.Engine.ensureStarted ()

open TorchSharp
open Functional.Networks
open Functional.Training
