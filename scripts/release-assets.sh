#!/usr/bin/env bash
# GoReleaser's before-hook: the man pages and shell completions that the archives, the .deb and
# .rpm packages and the Homebrew cask carry, generated from the real command tree (the same tree
# "make docs" documents), into build/release-assets.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/release-assets
rm -rf "$out"
mkdir -p "$out/man" "$out/completions"

# Man pages (into man/man1, where man looks) dated by the last commit, not the clock, so that a rebuild of a commit is the same.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)} \
  go run ./tools/gendocs -markdown "" -man "$out/man"
gzip -9n "$out"/man/man1/*.1

# Completions from a build for this machine: the scripts do not depend on the target platform.
go build -o "$out/pleoauth" ./cmd/pleoauth
for shell in bash zsh fish; do
  "$out/pleoauth" completion "$shell" > "$out/completions/pleoauth.$shell"
done
rm "$out/pleoauth"
