#!/usr/bin/env bash
# Release builds of aitrail: one static binary per platform (linux/amd64 and
# linux/arm64 by default) and a SHA256SUMS file, in dist/.
#
#   scripts/release.sh                      # dist/aitrail-VERSION-linux-{amd64,arm64}
#   VERSION=v1.2.0 scripts/release.sh       # name the version yourself
#   PLATFORMS=linux/arm64 OUT=/tmp/d scripts/release.sh
#   scripts/release.sh --check              # build twice, require identical bytes
#
# The builds are reproducible: CGO_ENABLED=0 (modernc SQLite and pgx are
# pure Go), -trimpath (no local paths), no build id, and -buildvcs=false
# with the version and revision passed by -ldflags instead, so that the
# bytes depend only on the source, the Go version and these flags (and so
# that a git worktree, where the toolchain stamps nothing, gets them too).
# 'aitrail version' prints them.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = "--check" ]; then check=true; shift; fi
if [ $# -gt 0 ]; then echo "usage: scripts/release.sh [--check]" >&2; exit 2; fi

out=${OUT:-dist}
platforms=${PLATFORMS:-"linux/amd64 linux/arm64"}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo "(devel)")}
case "$version" in
  v*|"(devel)") ;;
  *) version="v0.0.0-$version" ;; # no tag yet: describe gave a bare commit
esac

build() { # build DIR: every platform into DIR, with its SHA256SUMS
  local dir=$1 p goos goarch name
  mkdir -p "$dir"
  for p in $platforms; do
    goos=${p%/*} goarch=${p#*/}
    name="aitrail-$version-$goos-$goarch"
    echo "building $dir/$name" >&2
    GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 GOFLAGS= go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=$version -X main.revision=$revision" \
      -o "$dir/$name" ./cmd/aitrail
  done
  (cd "$dir" && sha256sum aitrail-"$version"-* > SHA256SUMS)
}

build "$out"
if $check; then
  again=$(mktemp -d)
  trap 'rm -rf "$again"' EXIT
  GOCACHE=$(mktemp -d) build "$again"
  if ! cmp -s "$out/SHA256SUMS" "$again/SHA256SUMS"; then
    echo "release.sh: the second build differs from the first:" >&2
    diff "$out/SHA256SUMS" "$again/SHA256SUMS" >&2 || true
    exit 1
  fi
  echo "reproducible: two builds gave the same bytes" >&2
fi
cat "$out/SHA256SUMS"
