#!/usr/bin/env python3
"""Second look at the mutants gremlins calls NOT COVERED, for scripts/mutate.sh.

gremlins v0.6 decides coverage from Go's coverage blocks, which start after a case's colon: a
mutant in a `case` expression (`case e.Status >= 400:`) or in a constant expression is NOT
COVERED whatever the tests do, so a package written with tagless switches shows a low mutant
coverage though its tests kill every such mutant. This script applies each NOT COVERED mutant
to a scratch copy of the module, runs the package's own tests, and marks the mutant KILLED
("recheck": true) when they fail. One that survives stays NOT COVERED: the script cannot tell
a line the tests never reach from one they reach without noticing, so it claims nothing for it.

    mutate-recheck.py RESULT.json ./internal/PKG TIMEOUT_SECONDS
"""
import json
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


def main():
    result_path, pkg, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    result = json.load(open(result_path))
    todo = [(f, m) for f in result.get("files") or [] for m in f.get("mutations") or []
            if m.get("status") == "NOT COVERED"]
    if not todo:
        return
    root = os.getcwd()
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
            if outcome == "fail":
                m["status"], m["recheck"] = "KILLED", True
            elif outcome == "build":
                m["status"], m["recheck"] = "NOT VIABLE", True
    finally:
        shutil.rmtree(copy, ignore_errors=True)
        os.chdir(root)
    with open(result_path, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
