#!/usr/bin/env bash
# Runs every fuzz target of the repository for a bounded time each:
#
#   scripts/fuzz.sh [SECONDS] [PATTERN]
#
# SECONDS is the time per target (default 5; CI gives each one 4 through
# scripts/test.sh); PATTERN, if given, keeps only the targets whose name
# matches it (grep -E), e.g. scripts/fuzz.sh 600 'FuzzStream|FuzzParseRequest'
# for a long run of the dialect parsers. The targets are found by listing
# 'func FuzzX(f *testing.F)' in the test files, so a new one is run without
# being added here. Each run starts from the seeds in the test and the corpus
# in the package's testdata/fuzz/FuzzX; a crash fails the script, and go test
# has then saved the input that crashed under testdata/fuzz/FuzzX (commit it
# with the fix: it becomes a regression test that plain 'go test' runs).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-5}
pattern=${2:-.}
case "$secs" in
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [PATTERN]" >&2; exit 2 ;;
esac

targets=$(grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . \
  | grep -v '^./e2e/node/' \
  | sed -E 's#^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+).*#\1 \2#' \
  | sort -u | grep -E " ($pattern)" || true)
if [ -z "$targets" ]; then
  echo "no fuzz target matches $pattern" >&2; exit 2
fi

n=$(printf '%s\n' "$targets" | wc -l)
echo "$n fuzz targets, ${secs}s each"
# fuzz NAME DIR runs one target and prints go test's output.
fuzz() {
  # -parallel 2: the machines CI runs on have two cores.
  go test -run '^$' -fuzz "^$1\$" -fuzztime "${secs}s" -parallel 2 "./$2" 2>&1
}

# flake reports whether output is only Go's own fuzzing-coordinator race at
# the end of -fuzztime (golang/go#75804, fixed in Go 1.27): the target fails
# with "context deadline exceeded" and no input was found or written. A
# real finding always says "Failing input written to testdata/fuzz/...".
flake() {
  grep -q 'context deadline exceeded' <<< "$1" && ! grep -q 'Failing input written' <<< "$1"
}

failed=()
flaked=()
while read -r dir name; do
  if out=$(fuzz "$name" "$dir"); then
    printf 'ok    %-28s ./%s\n' "$name" "$dir"
    continue
  fi
  if flake "$out"; then
    # Run it once more; the race alone never fails a run.
    if out=$(fuzz "$name" "$dir"); then
      printf 'ok    %-28s ./%s (on a second run: the first ended in golang/go#75804)\n' "$name" "$dir"
      continue
    elif flake "$out"; then
      printf 'flake %-28s ./%s (twice golang/go#75804, no input found)\n' "$name" "$dir"
      flaked+=("$name ./$dir")
      continue
    fi
  fi
  printf 'FAIL  %-28s ./%s\n%s\n' "$name" "$dir" "$out"
  failed+=("$name ./$dir")
done <<< "$targets"

if [ ${#flaked[@]} -gt 0 ]; then
  printf '\nwarning: %d fuzz target(s) ended twice in golang/go#75804 (no failing input): %s\n' "${#flaked[@]}" "${flaked[*]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf '\n%d fuzz target(s) failed (the inputs are under testdata/fuzz in their packages):\n' "${#failed[@]}"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
