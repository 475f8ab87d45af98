"""Start-up of the `sourcing` command, before and after, in the same run (issue 10 "start-up counts").

    python benchmarks/startup.py                  # before = where this branch left main
    python benchmarks/startup.py --before REF     # any git ref
    python benchmarks/startup.py --runs 5

For each tree (the `model` package of REF, unpacked into a temporary folder, and this checkout) and
each command (`python -m model.cli --help`, `python -m model.cli solve inputs/base_case.xlsx`):
the wall time of a fresh process, and the time `python -X importtime` says went into imports (the
sum of its "self" column), with the modules loaded. Runs alternate between the trees so the
machine's load falls on both alike; the minimum of the runs is reported.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
BASE_CASE = ROOT / "inputs" / "base_case.xlsx"


def openpyxl_read(workbook: Path) -> float:
    """issue 10's yardstick, as benchmarks/end_to_end.py times it (every cell iterated)."""
    from end_to_end import openpyxl_read as read

    return read(workbook)


def unpack(ref: str, into: Path) -> Path:
    """The `model` package as it was at `ref`, in `into` (the interpreter finds it first there)."""
    data = subprocess.run(["git", "archive", ref, "model"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(tree: Path, args: list[str], importtime: bool) -> tuple[float, float, int]:
    """(wall s, import s, modules imported) of `python -m model.cli ARGS` run from `tree`."""
    flags = ["-X", "importtime"] if importtime else []
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, *flags, "-m", "model.cli", *args], cwd=tree,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{args} in {tree} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    selfs = [int(line.split("|")[0].split(":")[1]) for line in proc.stderr.splitlines()
             if line.startswith("import time:") and "self [us]" not in line]
    return wall, sum(selfs) / 1e6, len(selfs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip() or "main"
    parser.add_argument("--before", default=default, help="git ref of the 'before' tree (default: merge-base with main)")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = unpack(opts.before, Path(tmp) / "before")
        out = Path(tmp) / "plan.xlsx"
        commands = {"--help": ["--help"], "solve": ["solve", str(BASE_CASE), "-o", str(out)]}
        trees = {"before": before, "after": ROOT}
        walls: dict[tuple[str, str], list[float]] = {}
        imports: dict[tuple[str, str], list[tuple[float, int]]] = {}
        reads: list[float] = []
        for _ in range(opts.runs):
            reads.append(openpyxl_read(BASE_CASE))
            for command, args in commands.items():
                for name, tree in trees.items():
                    walls.setdefault((command, name), []).append(run(tree, args, importtime=False)[0])
                    _, seconds, count = run(tree, args, importtime=True)
                    imports.setdefault((command, name), []).append((seconds, count))
    print(f"before = {opts.before}, after = this checkout; min of {opts.runs} runs, alternating")
    print(f"{'command':<10} {'tree':<7} {'wall s':>8} {'imports s':>10} {'modules':>8}")
    for command in commands:
        for name in trees:
            seconds, count = min(imports[(command, name)])
            print(f"{command:<10} {name:<7} {min(walls[(command, name)]):>8.2f} {seconds:>10.2f} {count:>8}")
    read = min(reads)
    print(f"yardstick: one openpyxl read of the base case {read:.2f} s; solve wall / read: "
          + ", ".join(f"{name} {min(walls[('solve', name)]) / read:.1f}x" for name in trees))


if __name__ == "__main__":
    main()
