#!/usr/bin/env bash
# make fuzz: run every fuzz target for FUZZTIME (default 30s) each. Seeds are committed under
# each package's testdata/fuzz; "go test ./..." replays them as ordinary tests.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${FUZZTIME:-30s}
targets=(
  ./internal/authcode:FuzzCheckCallback
  ./internal/authcode:FuzzParsePasted
  ./internal/tokenendpoint:FuzzTokenResponse
  ./internal/config:FuzzConfigFile
  ./internal/store:FuzzFileLoad
  ./internal/store:FuzzUnseal
  ./internal/debuglog:FuzzRedactBody
)
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  echo "== $name ($pkg) for $time"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" "$pkg"
done
