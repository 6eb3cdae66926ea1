#!/usr/bin/env bash
# The chaos test must be able to fail: build pleoauth with a planted bug (scripts/planted/*.patch,
# by default the Redis store skipping the spend record written before a refresh is sent), run
# one short chaos run against it, and succeed only when the checker reports a violation of the
# rule the bug breaks (RULE, as numbered on chaos.Check: 1, a refresh token sent twice).
#   CHAOS_TIME (default 30s), CHAOS_SEED (default 1), RULE (default 1),
#   PATCH (default scripts/planted/redis-spend.patch)
set -euo pipefail
cd "$(dirname "$0")/.."
patch_file=${PATCH:-scripts/planted/redis-spend.patch}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/tree" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add -q --detach "$tmp/tree" HEAD
git -C "$tmp/tree" apply "$PWD/$patch_file"
(cd "$tmp/tree" && CGO_ENABLED=0 go build -o "$tmp/pleoauth" ./cmd/pleoauth)
echo "== chaos run against pleoauth with $patch_file planted"
if PLEOAUTH_CHAOS_BIN="$tmp/pleoauth" PLEOAUTH_CHAOS="${CHAOS_TIME:-30s}" PLEOAUTH_CHAOS_SEED="${CHAOS_SEED:-1}" \
  go test -count=1 -run '^TestChaos$' -timeout 20m -v ./cmd/pleoauth/ | tee "$tmp/run.log"; then
  echo "the planted bug ($patch_file) was NOT caught: the chaos run passed"
  exit 1
fi
rule=${RULE:-1}
grep -q "^ *violations .*, rule $rule ×" "$tmp/run.log" || { echo "the chaos run failed, but not with a violation of rule $rule"; exit 1; }
echo "the planted bug ($patch_file) was caught: rule $rule was broken"
