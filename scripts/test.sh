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

step "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

step "govulncheck"
if curl -fsS -m 5 -o /dev/null https://vuln.go.dev/index/db.json 2>/dev/null; then
  go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 ./...
else
  echo "skipped: the vulnerability database (vuln.go.dev) is not reachable from this machine"
fi

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
