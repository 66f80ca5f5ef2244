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
failed=()
while read -r dir name; do
  # -parallel 2: the machines CI runs on have two cores.
  if out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" -parallel 2 "./$dir" 2>&1); then
    printf 'ok    %-28s ./%s\n' "$name" "$dir"
  else
    printf 'FAIL  %-28s ./%s\n%s\n' "$name" "$dir" "$out"
    failed+=("$name ./$dir")
  fi
done <<< "$targets"

if [ ${#failed[@]} -gt 0 ]; then
  printf '\n%d fuzz target(s) failed (the inputs are under testdata/fuzz in their packages):\n' "${#failed[@]}"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
