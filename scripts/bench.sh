#!/usr/bin/env bash
# make bench: the cached path of "pleoauth token" and the 32-process refresh storm, measured
# side by side with their floors (see bench/bench_test.go), with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "kernel:  $(uname -sr); $(go version)"
echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
go test -run '^$' -bench . -benchtime "${BENCHTIME:-30x}" -count "${COUNT:-1}" ./bench/
