"""Plan workbook write: pre-rendered row XML (the product) against XlsxWriter's per-cell path
(the reference kept in tests/test_fast_rows.py), on the same tables, in the same run.

    python benchmarks/write_speed.py [--repeat 3] [--skip-full]

Tables: the solved base case (`sourcing solve`'s default detail), and the generated medium
instance (benchmarks/generate.py `medium()`, ~83k variables) at default detail and `--detail full`.
Each write is timed `--repeat` times, alternating the two paths; the minimum wall and CPU seconds
are printed (the machine is shared: CPU seconds are the steadier figure).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def per_cell_path() -> Iterator[None]:
    """Write data rows cell by cell through XlsxWriter (the path the product used before)."""
    import model.io.xlsx_plan as xlsx_plan
    from tests.test_fast_rows import _RecordingBook, per_cell_rows

    saved = xlsx_plan._Book, xlsx_plan._write_rows
    xlsx_plan._Book, xlsx_plan._write_rows = _RecordingBook, per_cell_rows
    try:
        yield
    finally:
        xlsx_plan._Book, xlsx_plan._write_rows = saved


def timed(write: Callable[[], None]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    write()
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(label: str, tables: dict, write: Callable[[Path], None], tmp: Path, repeat: int) -> None:
    """Time `write` through both paths, alternating, and print one table row."""
    cells = sum(tables[k].shape[0] * tables[k].shape[1] for k in tables)
    fast, slow = [], []
    for _ in range(repeat):
        with per_cell_path():
            slow.append(timed(lambda: write(tmp / "slow.xlsx")))
        fast.append(timed(lambda: write(tmp / "fast.xlsx")))
    (sw, sc), (fw, fc) = (min(x[0] for x in slow), min(x[1] for x in slow)), \
        (min(x[0] for x in fast), min(x[1] for x in fast))
    print(f"| {label} | {cells:,} | {sw:.2f} s ({sc:.2f} CPU) | {fw:.2f} s ({fc:.2f} CPU) | "
          f"{sw / fw:.1f}x ({sc / fc:.1f}x CPU) | {fc / cells * 1e6:.2f} us |", flush=True)


def main() -> None:
    import generate as gen

    from model.api import solve
    from model.data import load_workbook
    from model.io.writer import write_plan

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-full", action="store_true", help="leave out the ~1M-cell medium --detail full")
    args = ap.parse_args()
    print("| tables | cells | per-cell XlsxWriter (before) | row XML (after) | ratio | after, CPU per cell |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        plan = solve(load_workbook(ROOT / "inputs" / "base_case.xlsx"), rows="decisive")
        compare("base case, default detail", plan.tables, lambda p: write_plan(plan, p), tmp, args.repeat)
        data = gen.to_inputdata(gen.medium(), run_check=False)
        for rows in ("decisive", "full")[: 1 if args.skip_full else 2]:
            medium = solve(data, rows=rows)
            compare(f"medium, {'default' if rows == 'decisive' else '`--detail full`'}", medium.tables,
                    lambda p, m=medium: write_plan(m, p), tmp, args.repeat)


if __name__ == "__main__":
    main()
