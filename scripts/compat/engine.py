"""What the compatibility checks share: their command line, running the engine, and the verdicts."""

import argparse
import json
import os
import subprocess
import sys


def arguments(doc, out, names=False):
    """The command line: `--engine` (the evaluation crate's `throughput` example), `--out` (where the
    exports are written), and with `names` the networks to check (all when none)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/modelchain/target"))
    parser.add_argument("--engine", default=os.path.join(target, "debug/examples/throughput"))
    parser.add_argument("--out", default=out)
    if names:
        parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def evaluate(binary, model, golden, metric):
    """The engine's score in parts per billion and None, or None and its typed error."""
    run = subprocess.run([binary, "evaluate", model, golden, metric, "1"], capture_output=True, text=True)
    if run.returncode == 0:
        return json.loads(run.stdout.splitlines()[-1])["score"], None
    lines = [line for line in run.stderr.splitlines() if line.startswith("evaluation: ")]
    return None, lines[-1] if lines else run.stderr.strip()[-200:]


def outcome(binary, model, golden, metric):
    """`score N`, or the engine's typed error."""
    score, error = evaluate(binary, model, golden, metric)
    return error or f"score {score}"


class Verdicts:
    """Prints each case's outcome and whether it is the expected one; `finish` exits 1 if any is not."""

    def __init__(self):
        self.unexpected = 0

    def report(self, tag, outcome, ok):
        self.unexpected += not ok
        print(f"{'ok        ' if ok else 'UNEXPECTED'} {tag}: {outcome[:200]}")

    def finish(self):
        print(f"{self.unexpected} unexpected")
        sys.exit(1 if self.unexpected else 0)
