"""build_lp before and after the index moved to integer codes, in one run (issue 10).

    python benchmarks/index_build.py [--repeat 5]

"Before" is the frozen copy of the pandas-join index and patterns (tests/independent/
index_before_codes.py: main at 8d05ecb, with the same variable and row functions); "after" is
model.formulation.lp.build_lp. Both run in this process, interleaved, on the base case and on the
generated medium workbook (written to a temporary .xlsx and read back, as `sourcing solve` reads
it); each figure is the min (and median) of --repeat warm builds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import generate as gen  # noqa: E402

from model.data import load_workbook  # noqa: E402
from model.formulation.lp import build_lp  # noqa: E402
from tests.independent import index_before_codes as before  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        medium = gen.write_xlsx(gen.to_inputdata(gen.medium(), run_check=False), Path(folder) / "medium.xlsx")
        books = {"base case": load_workbook(ROOT / "inputs" / "base_case.xlsx"), "medium": load_workbook(medium)}
    for name, data in books.items():
        times: dict[str, list[float]] = {"before": [], "after": []}
        for build in (before.build_lp, build_lp):  # warm both (imports, caches)
            lp = build(data)
        for _ in range(args.repeat):
            for label, build in (("before", before.build_lp), ("after", build_lp)):
                start = time.perf_counter()
                build(data)
                times[label].append(time.perf_counter() - start)
        b, a = min(times["before"]), min(times["after"])
        print(f"{name}: {lp.shape[0]:,} rows x {lp.shape[1]:,} columns, {lp.A.nnz:,} nonzeros; build_lp "
              f"before {b:.3f} s (median {statistics.median(times['before']):.3f}), after {a:.3f} s "
              f"(median {statistics.median(times['after']):.3f}): {b / a:.1f}x")


if __name__ == "__main__":
    main()
