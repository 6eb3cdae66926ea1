#!/usr/bin/env python3
"""The mutants gremlins does not run right, run here, for scripts/mutate.sh.

    mutants.py recheck RESULT.json ./internal/PKG TIMEOUT_SECONDS
    mutants.py changed REF ./internal/PKG          # exit 0 when PKG's code changed since REF
    mutants.py diff REF RESULT.json ./internal/PKG TIMEOUT_SECONDS

recheck — a second look at the mutants gremlins calls NOT COVERED:

gremlins v0.6 decides coverage from Go's coverage blocks, which start after a case's colon: a
mutant in a `case` expression (`case e.Status >= 400:`) or in a constant expression is NOT
COVERED whatever the tests do, so a package written with tagless switches shows a low mutant
coverage though its tests kill every such mutant. This script applies each NOT COVERED mutant
to a scratch copy of the module, runs the package's own tests, and marks the mutant KILLED
("recheck": true) when they fail. One that survives stays NOT COVERED: the script cannot tell
a line the tests never reach from one they reach without noticing, so it claims nothing for it.

diff — the mutants on the lines changed since REF (the merge base with it, as gremlins takes it),
from a `gremlins unleash --dry-run` RESULT: gremlins' own --diff never matches when given a
package (it compares the diff's paths, from the module root, with paths inside the package, so
nothing is run), and treats a package without changes as all changed. Mutants off the changed
lines become SKIPPED; the others are run here, each against the package's own tests: a covered
one is KILLED or LIVED, one gremlins calls NOT COVERED is KILLED or stays NOT COVERED.
"""
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time

# What each gremlins mutator turns an operator into (gremlins' own tables).
MUTATIONS = {
    "CONDITIONALS_NEGATION": {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"},
    "CONDITIONALS_BOUNDARY": {"<": "<=", "<=": "<", ">": ">=", ">=": ">"},
    "ARITHMETIC_BASE": {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*"},
    "INCREMENT_DECREMENT": {"++": "--", "--": "++"},
    "INVERT_NEGATIVES": {"-": "+"},
}


def mutate(line, col, kind):
    """line (bytes) with the operator at 1-based byte column col replaced as kind does, or None."""
    table = MUTATIONS.get(kind)
    if not table:
        return None
    i = col - 1
    for width in (2, 1):
        op = line[i:i + width].decode("ascii", "replace")
        if op in table:
            return line[:i] + table[op].encode() + line[i + width:]
    return None


def run_tests(copy, pkg, timeout):
    """'pass', 'fail', 'build' (the mutant does not compile) or 'timeout'."""
    try:
        p = subprocess.run(["go", "test", "-count=1", pkg], cwd=copy, capture_output=True,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if p.returncode == 0:
        return "pass"
    if "[build failed]" in p.stdout or "[setup failed]" in p.stdout:
        return "build"
    return "fail"


def changed_lines(ref, pkg):
    """{file name in pkg: set of line numbers} of pkg's non-test Go code changed since ref."""
    out = subprocess.run(["git", "diff", "--merge-base", "-U0", "--no-color", ref, "--", pkg],
                         capture_output=True, check=True, text=True).stdout
    lines, name = {}, None
    for row in out.splitlines():
        if row.startswith("+++ "):
            path = row[4:]
            name = None
            if path.startswith("b/") and path.endswith(".go") and not path.endswith("_test.go"):
                rel = os.path.relpath(path[2:], os.path.normpath(pkg))
                name = rel if os.sep not in rel and not rel.startswith("..") else None
        elif row.startswith("@@") and name:
            m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", row)
            start, count = int(m.group(1)), int(m.group(2) or "1")
            lines.setdefault(name, set()).update(range(start, start + count))
    return {k: v for k, v in lines.items() if v}


def run_mutants(result, pkg, timeout, todo):
    """Runs each (file, mutation) of todo against pkg's tests in a scratch copy of the module
    and sets its status from the outcome."""
    if not todo:
        return
    copy = tempfile.mkdtemp(prefix="pleoauth-mutate-")
    try:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                               capture_output=True, check=True).stdout.decode().split("\0")
        for rel in filter(None, files):
            if os.path.isfile(rel):
                os.makedirs(os.path.join(copy, os.path.dirname(rel)), exist_ok=True)
                shutil.copy2(rel, os.path.join(copy, rel))
        start = time.monotonic()
        if run_tests(copy, pkg, timeout) != "pass":
            print(f"    recheck: {pkg}'s tests do not pass unmutated; nothing rechecked")
            return
        limit = max(60.0, timeout, 10 * (time.monotonic() - start))
        for f, m in todo:
            path = os.path.join(copy, pkg, f["file_name"])
            with open(path, "rb") as fh:
                original = fh.read()
            lines = original.split(b"\n")
            mutated = mutate(lines[m["line"] - 1], m["column"], m.get("type"))
            if mutated is None:
                continue
            lines[m["line"] - 1] = mutated
            try:
                with open(path, "wb") as fh:
                    fh.write(b"\n".join(lines))
                outcome = run_tests(copy, pkg, limit)
            finally:
                with open(path, "wb") as fh:
                    fh.write(original)
            covered = m["status"] != "NOT COVERED"
            if outcome == "fail":
                m["status"] = "KILLED"
            elif outcome == "build":
                m["status"] = "NOT VIABLE"
            elif outcome == "timeout" and covered:
                m["status"] = "TIMED OUT"
            elif covered:
                m["status"] = "LIVED"
            m["recheck"] = not covered
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def main():
    mode = sys.argv[1]
    if mode == "changed":
        sys.exit(0 if changed_lines(sys.argv[2], sys.argv[3]) else 1)
    if mode == "recheck":
        result_path, pkg, timeout = sys.argv[2], sys.argv[3], float(sys.argv[4])
        result = json.load(open(result_path))
        todo = [(f, m) for f in result.get("files") or [] for m in f.get("mutations") or []
                if m.get("status") == "NOT COVERED"]
    elif mode == "diff":
        ref, result_path, pkg, timeout = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
        result = json.load(open(result_path))
        changed = changed_lines(ref, pkg)
        todo = []
        for f in result.get("files") or []:
            for m in f.get("mutations") or []:
                if m.get("line") not in changed.get(f["file_name"], ()):
                    m["status"] = "SKIPPED"
                elif m.get("status") in ("RUNNABLE", "NOT COVERED"):
                    todo.append((f, m))
    else:
        sys.exit(f"mutants.py: unknown mode {mode}")
    run_mutants(result, pkg, timeout, todo)
    with open(result_path, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
