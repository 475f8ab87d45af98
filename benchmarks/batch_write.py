"""How long a large what-if batch spends solving against writing (issue 14: 401 scenarios took 3
minutes to write against 15 s of solving).

    python benchmarks/batch_write.py [--scenarios 400] [--jobs 2] [--per-cell]

Builds the base case with N generated scenarios (each country's capacity scaled, then each
commodity's demand scaled), runs the steps of `sourcing batch` one by one and prints the seconds
of each: load, solve (workers), the batch tables, the workbook write, and the rows written.
`--per-cell` also writes the same tables through XlsxWriter's per-cell path (the reference in
tests/test_fast_rows.py, what the product did before pre-rendered rows), in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def with_scenarios(out: Path, n: int) -> Path:
    wb = openpyxl.load_workbook(ROOT / "inputs" / "base_case.xlsx")
    ws = wb["Scenarios"]
    ws.delete_rows(2, ws.max_row)
    supply = list(wb["Supply"].iter_rows(values_only=True))
    head = supply[0]
    countries = sorted({r[head.index("country")] for r in supply[1:] if r[0]})
    commodities = sorted({r[head.index("commodity")] for r in supply[1:] if r[0]})
    rows = [(f"cap_{c}_{f}", "Supply", "capacity", f"country={c}", "scale", f)
            for f, c in itertools.product((0.5, 0.8, 1.2, 0.0), countries)]
    rows += [(f"dem_{k}_{f}", "Demand", "quantity", f"commodity={k}", "scale", f)
             for f, k in itertools.product((0.5, 1.5, 2.0, 0.7, 1.3, 0.9, 1.1, 0.6), commodities)]
    for row in rows[:n]:
        ws.append([*row, None])
    wb.save(out)
    return out


def main() -> None:
    from model.batch.commands import batch_charts, run_batch
    from model.batch.output import write_batch
    from model.data import load_workbook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=400)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--per-cell", action="store_true", help="also time the per-cell reference write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        book = with_scenarios(Path(tmp) / "batch_in.xlsx", args.scenarios)
        t = time.perf_counter()
        data = load_workbook(book)
        load = time.perf_counter() - t
        t = time.perf_counter()
        tables, report = run_batch(data, workers=args.jobs, progress=False)
        solve_and_tables = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        write_batch(tables, Path(tmp) / "batch.xlsx", inputs=[book], charts=batch_charts(tables))
        write, write_cpu = time.perf_counter() - t, time.process_time() - c
        if args.per_cell:
            from write_speed import per_cell_path

            with per_cell_path():
                t, c = time.perf_counter(), time.process_time()
                write_batch(tables, Path(tmp) / "slow.xlsx", inputs=[book], charts=batch_charts(tables))
                slow, slow_cpu = time.perf_counter() - t, time.process_time() - c
    cells = sum(len(v) * len(v.columns) for v in tables.values())
    print(f"scenarios solved: {len(report.results)} ({report.mode}, {report.workers} worker(s))")
    print(f"load {load:.1f} s | solve {report.seconds:.1f} s | tables "
          f"{solve_and_tables - report.seconds:.1f} s | write {write:.1f} s "
          f"(write/solve {write / max(report.seconds, 1e-9):.1f}x; CPU {write_cpu:.1f} s, "
          f"{write_cpu / cells * 1e6:.2f} us a cell)")
    if args.per_cell:
        print(f"per-cell XlsxWriter write of the same tables: {slow:.1f} s (CPU {slow_cpu:.1f} s): "
              f"{slow / write:.1f}x the row-XML write (CPU {slow_cpu / write_cpu:.1f}x)")
    print("rows: " + ", ".join(f"{k} {len(v):,}" for k, v in tables.items()) + f"; {cells:,} cells")


if __name__ == "__main__":
    main()
