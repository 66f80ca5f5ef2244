#!/usr/bin/env bash
# The whole test suite, with its own set-up: the README's test command, and
# what CI runs (.ci/run). On a fresh machine it needs only Go, Node.js and
# PostgreSQL's server binaries (installed on these machines); it starts a
# throwaway PostgreSQL, installs the npm packages of the SDK tests, and runs
# formatting, vet, staticcheck, govulncheck (when its database is reachable)
# and every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './e2e/node/*'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "release builds (scripts/release.sh: linux/amd64 and linux/arm64, cross-compiled)"
# Both platforms through the release script; the native one must report the
# version and revision it was given. AITRAIL_RELEASE_CHECK=1 also builds
# everything a second time with an empty cache and compares the bytes.
dist=$(mktemp -d)
PLATFORMS="linux/amd64 linux/arm64" OUT="$dist" VERSION=v0.0.0-releasetest REVISION=0123456789abcdef \
  scripts/release.sh >/dev/null
(cd "$dist" && sha256sum --quiet -c SHA256SUMS)
for arch in amd64 arm64; do
  bin="$dist/aitrail-v0.0.0-releasetest-linux-$arch"
  go version -m "$bin" | grep -q "GOARCH=$arch" || { echo "$bin is not a linux/$arch binary"; exit 1; }
  go version -m "$bin" | grep -q "CGO_ENABLED=0" || { echo "$bin is not static"; exit 1; }
done
if [ "$(go env GOOS)/$(go env GOARCH)" = linux/amd64 ]; then
  out=$("$dist/aitrail-v0.0.0-releasetest-linux-amd64" version)
  case "$out" in
    "aitrail v0.0.0-releasetest"*"revision 0123456789abcdef"*) ;;
    *) echo "the release binary's version says: $out"; exit 1 ;;
  esac
fi
if [ "${AITRAIL_RELEASE_CHECK:-}" = 1 ]; then
  OUT="$dist/check" scripts/release.sh --check >/dev/null
fi
rm -rf "$dist"
echo "ok"

step "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

step "govulncheck"
if curl -fsS -m 5 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then
  go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 ./...
else
  echo "skipped: the vulnerability database (vuln.go.dev) is not reachable from this machine"
fi

step "fuzzing (scripts/fuzz.sh: every fuzz target, ${AITRAIL_FUZZ_SECONDS:-4}s each)"
# A short run per target in CI; for a long one on demand:
# scripts/fuzz.sh 600 (or AITRAIL_FUZZ_SECONDS=600 scripts/test.sh).
scripts/fuzz.sh "${AITRAIL_FUZZ_SECONDS:-4}"

step "PostgreSQL for the store tests"
eval "$(scripts/postgres.sh start)"
trap 'scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
echo "AITRAIL_TEST_POSTGRES=$AITRAIL_TEST_POSTGRES"

step "npm packages for the SDK tests"
(cd e2e/node && npm ci --no-audit --no-fund --loglevel=error)

step "go test -race ./..."
# The end-to-end tests build the aitrail binary and run the Node SDK tests
# against it (e2e/node_test.go).
go test -race -count=1 -timeout 20m ./...
