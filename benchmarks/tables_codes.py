"""Time each plan table as the writer reads it (model/results.py builds them lazily), for this
tree and for a git revision of it (default main), interleaved in one run so both see the same load.

    python benchmarks/tables_codes.py [--before main] [--runs 5] [WORKBOOK ...]

Each run loads the workbook once, then per repetition solves it afresh (`rows="decisive"`, as the
command line) and times `plan.tables[name]` for every table in sheet order; the figure is the
minimum over repetitions. Tables are read dependencies first
(Overview and Summary last), so each figure is that table's own cost. The revision's `model` package is exported with `git archive` to a
temporary directory and run in a subprocess with that directory first on sys.path.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import model.api as api
from model.data import load_workbook
assert api.__file__.startswith(sys.argv[1]), api.__file__
data = load_workbook(sys.argv[2])
best = {}
for _ in range(int(sys.argv[3])):
    plan = api.solve(data, rows="decisive")
    # dependencies first (Overview reads Flows, Shares...; Summary builds the decisive tables),
    # so each figure is the table's own cost
    names = list(plan.tables)
    names = [n for n in names if n not in ("Overview", "Summary")] + [n for n in ("Overview", "Summary") if n in names]
    for name in names:
        t0 = time.perf_counter()
        plan.tables[name]
        dt = time.perf_counter() - t0
        best[name] = min(best.get(name, dt), dt)
print(json.dumps(best))
"""


def run(tree: Path, workbook: str, runs: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(tree), workbook, str(runs)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workbooks", nargs="*", default=[str(ROOT / "inputs" / "base_case.xlsx"), "/tmp/medium_tab.xlsx"])
    p.add_argument("--before", default="main")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2, help="before/after alternations per workbook")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", a.before, "model"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        for wb in a.workbooks:
            before: dict[str, float] = {}
            after: dict[str, float] = {}
            for _ in range(a.rounds):
                for tree, acc in ((old, before), (ROOT, after)):
                    for k, v in run(tree, wb, a.runs).items():
                        acc[k] = min(acc.get(k, v), v)
            print(f"\n{Path(wb).name} (min of {a.runs * a.rounds} solves each; seconds)")
            print(f"{'table':<16}{'before':>9}{'after':>9}{'ratio':>8}")
            for name in after:
                b, n = before.get(name, float("nan")), after[name]
                print(f"{name:<16}{b:>9.4f}{n:>9.4f}{b / n if n else float('nan'):>7.1f}x")
            print(f"{'all tables':<16}{sum(before.values()):>9.4f}{sum(after.values()):>9.4f}")


if __name__ == "__main__":
    main()
