#!/usr/bin/env bash
# make mutate: mutation testing (gremlins) of the packages that hold pleoauth's rules, each with
# its own tests only — a planted bug that survives is a missing test there. Each package must
# reach EFFICACY% of its covered mutants killed and MCOVER% of its mutants covered; the script
# prints one line per package, the mutants that lived, and fails when a package falls short.
#   PACKAGES="grant store" make mutate     # some packages only
#   DIFF=HEAD~1 make mutate                # only the mutants in lines changed since a commit
#   WORKERS=1 TIMEOUT_COEFFICIENT=20 make mutate   # on a busy machine: fewer runs at once, more time each
#
# Two things gremlins v0.6 counts that a reader of the figures should know: a mutant in a `case`
# expression of a switch or select (`case err != nil:`) or in a constant expression
# (`30 * time.Second`) is NOT COVERED whatever the tests do, as Go's coverage blocks start after
# the case's colon; and a mutant's time limit is TIMEOUT_COEFFICIENT times the coverage run's
# wall time, build included, so a mutant that only shows after a long wait times out instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v gremlins >/dev/null || { echo "make mutate needs gremlins; run \"make tools\" first"; exit 1; }
efficacy=${EFFICACY:-85}
mcover=${MCOVER:-80}
packages=(${PACKAGES:-grant store config serve debuglog api tokenendpoint authcode loopback exitcode failure chaos pleo})
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=()
printf '%-14s %8s %7s %6s %12s %9s %7s %8s\n' package mutants killed lived "not covered" efficacy mcover seconds
for pkg in "${packages[@]}"; do
  start=$(date +%s)
  dir=./internal/$pkg
  [ -d "$dir" ] || dir=./$pkg # the public package, pleo

  # A mutant's test run may take TIMEOUT_COEFFICIENT times the unmutated run before it counts as
  # timed out (gremlins' default, 3, times out most of serve's mutants on a busy 2-core machine).
  args=(unleash --threshold-efficacy "$efficacy" --threshold-mcover "$mcover" -o "$out/$pkg.json"
        --timeout-coefficient "${TIMEOUT_COEFFICIENT:-10}")
  [ -n "${WORKERS:-}" ] && args+=(--workers "$WORKERS")
  if [ -n "${DIFF:-}" ]; then
    # gremlins' own --diff runs nothing when given a package (scripts/mutants.py says why): it
    # only lists the mutants here, and the ones on changed lines are run by scripts/mutants.py.
    if ! ./scripts/mutants.py changed "$DIFF" "$dir"; then
      printf '%-14s %8s %7s %6s %12s %9s %7s %8s  (no code changed since %s)\n' "$pkg" 0 0 0 0 - - 0 "$DIFF"
      continue
    fi
    args+=(--dry-run)
  fi
  # -count=1: a coverage run answered from the test cache takes milliseconds, and gremlins
  # derives every mutant's time limit from it.
  GOFLAGS="${GOFLAGS:+$GOFLAGS }-count=1" gremlins "${args[@]}" "$dir" >"$out/$pkg.log" 2>&1 || true
  if [ -s "$out/$pkg.json" ] && [ -n "${DIFF:-}" ]; then
    ./scripts/mutants.py diff "$DIFF" "$out/$pkg.json" "$dir" 600
  elif [ -s "$out/$pkg.json" ]; then
    # The mutants gremlins cannot see covered (case expressions, constants) get a run of their own.
    ./scripts/mutants.py recheck "$out/$pkg.json" "$dir" 600
  fi
  secs=$(( $(date +%s) - start ))
  if [ -s "$out/$pkg.json" ]; then
    # The gate is decided here, from the results, whatever gremlins' own exit code says.
    if ! python3 - "$out/$pkg.json" "$pkg" "$secs" "$efficacy" "$mcover" "${DIFF:-}" "$out/$pkg.log" "$dir" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
diff = sys.argv[6]
files = r.get("files") or []
st = [m.get("status") for f in files for m in (f.get("mutations") or [])]
# A living mutant listed in scripts/mutants-equivalent.tsv (its file, mutator, place and line as
# they are now) is equivalent: no test can tell it from the code, so it is not counted as lived.
known = set()
for row in open("scripts/mutants-equivalent.tsv"):
    if row.strip() and not row.startswith("#"):
        f, t, off, text, _why = row.rstrip("\n").split("\t")
        known.add((f, t, int(off), text))
equivalent = 0
for f in files:
    src = open(f"{sys.argv[8]}/{f['file_name']}", "rb").read().decode().split("\n")
    for m in f.get("mutations") or []:
        if m.get("status") != "LIVED":
            continue
        raw = src[m["line"] - 1]
        text = raw.lstrip()
        if (f"{sys.argv[2]}/{f['file_name']}", m.get("type"), m["column"] - 1 - (len(raw) - len(text)), text) in known:
            m["status"] = "EQUIVALENT"
            equivalent += 1
st = [m.get("status") for f in files for m in (f.get("mutations") or [])]
skipped = st.count("SKIPPED")  # outside the lines changed since DIFF
st = [s for s in st if s != "SKIPPED"]
# gremlins leaves timed-out mutants out of its JSON; its summary line counts them.
summary = re.search(r"Timed out: (\d+), Not viable: (\d+)", open(sys.argv[7]).read())
timed_out = (int(summary.group(1)) if summary else 0) + st.count("TIMED OUT")
not_viable = st.count("NOT VIABLE") + (int(summary.group(2)) if summary else 0)
k, l, n = st.count("KILLED"), st.count("LIVED"), st.count("NOT COVERED")
rechecked = sum(1 for f in files for m in (f.get("mutations") or []) if m.get("recheck") and m.get("status") == "KILLED")
eff = 100.0 * k / (k + l) if k + l else 0.0
cov = 100.0 * (k + l) / (k + l + n) if k + l + n else 0.0
notes = [f"{rechecked} of the killed rechecked"] if rechecked else []
notes += [f"{equivalent} equivalent"] if equivalent else []
notes += [f"{timed_out} timed out"] if timed_out else []
notes += [f"{not_viable} not viable"] if not_viable else []
if diff:
    notes.append(f"{skipped} outside the lines changed since {diff}")
note = f"  ({'; '.join(notes)})" if notes else ""
print(f"{sys.argv[2]:<14} {len(st) - st.count('TIMED OUT') + timed_out:>8} {k:>7} {l:>6} {n:>12} {eff:>8.1f}% {cov:>6.1f}% {sys.argv[3]:>8}{note}")
for f in files:
    for m in f.get("mutations") or []:
        if m.get("status") in ("LIVED", "NOT COVERED"):
            print(f"    {m['status'].lower()}: {f.get('file_name')}:{m.get('line')}:{m.get('column')} {m.get('type')}")
if diff and k + l + n == 0:
    sys.exit(0)  # no mutant in the lines that changed: nothing to judge
sys.exit(0 if k + l > 0 and eff >= float(sys.argv[4]) and cov >= float(sys.argv[5]) else 1)
PY
    then
      failed+=("$pkg")
    fi
  else
    printf '%-14s  no result; see the log:\n' "$pkg"; tail -5 "$out/$pkg.log"
    failed+=("$pkg")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "below efficacy ${efficacy}% or mutant coverage ${mcover}%: ${failed[*]}"
  exit 1
fi
