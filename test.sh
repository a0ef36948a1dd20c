#!/usr/bin/env bash
# Builds everything and runs both test suites: Functional.Lang.Tests (Expecto) and Functional.Host.Tests
# (xunit). The last line is "N passed, N failed" (", N skipped" when tests were skipped); the exit code
# is non-zero when the build or any test fails.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! dotnet build Functional.sln -v quiet -nologo -clp:ErrorsOnly; then
  echo "the build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
strip() { sed -e 's/\x1b\[[0-9;]*m//g' "$1"; }

dotnet tests/Functional.Lang.Tests/bin/Debug/net10.0/Functional.Lang.Tests.dll --summary --no-spinner --colours 0 2>&1 | tee "$logs/lang"
lang_rc=${PIPESTATUS[0]}
dotnet tests/Functional.Host.Tests/bin/Debug/net10.0/Functional.Host.Tests.dll -noColor 2>&1 | tee "$logs/host"
host_rc=${PIPESTATUS[0]}

passed=0 failed=0 skipped=0
# Expecto: "EXPECTO! 105 tests run in 00:00:01 for miscellaneous – 104 passed, 0 ignored, 1 failed, 0 errored."
if line=$(strip "$logs/lang" | grep -E '[0-9]+ passed, [0-9]+ ignored, [0-9]+ failed, [0-9]+ errored' | tail -n 1); then
  read -r p i f e < <(echo "$line" | sed -E 's/.* ([0-9]+) passed, ([0-9]+) ignored, ([0-9]+) failed, ([0-9]+) errored.*/\1 \2 \3 \4/')
  passed=$((passed + p)); skipped=$((skipped + i)); failed=$((failed + f + e))
else
  echo "Functional.Lang.Tests printed no summary (exit code $lang_rc)"; failed=$((failed + 1))
fi
# xunit: "Functional.Host.Tests  Total: 114, Errors: 0, Failed: 2, Skipped: 0, Not Run: 0, Time: 13.1s"
if line=$(strip "$logs/host" | grep -E 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+, Not Run: [0-9]+' | tail -n 1); then
  read -r t e f s n < <(echo "$line" | sed -E 's/.*Total: ([0-9]+), Errors: ([0-9]+), Failed: ([0-9]+), Skipped: ([0-9]+), Not Run: ([0-9]+).*/\1 \2 \3 \4 \5/')
  passed=$((passed + t - e - f - s - n)); skipped=$((skipped + s + n)); failed=$((failed + e + f))
else
  echo "Functional.Host.Tests printed no summary (exit code $host_rc)"; failed=$((failed + 1))
fi
if [ "$lang_rc" -ne 0 ] || [ "$host_rc" -ne 0 ]; then
  [ "$failed" -gt 0 ] || failed=1
fi

echo
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
