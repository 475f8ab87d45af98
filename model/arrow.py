"""pyarrow, kept out of a `sourcing` process until it writes a Parquet file.

Why: pandas imports pyarrow and pyarrow.compute at its own import whenever pyarrow is installed,
~0.1 s of a ~1.2 s base-case `sourcing solve` (benchmarks/README.md), to offer Arrow-backed dtypes
the model does not use. Without it pandas keeps text in its own Python string dtype: the same values,
the same "str" dtype name, the same plan cell for cell (tests/test_arrow_deferral.py). Only the
Parquet files written beside a plan or batch workbook need pyarrow, and they ask for it (`allow`).

Only `sourcing solve` defers, in its own process and before anything imports pandas (`defer`, at
the top of the command). Batch commands do not: they hand DataFrames to spawned worker processes,
which load pandas as it comes, and both ends must agree on how text is stored. A notebook, a test
or any program importing `model` gets pandas as it comes too (`defer` does nothing once pandas is
loaded).
"""

from __future__ import annotations

import sys


def defer() -> bool:
    """Keep pyarrow from loading (pandas then runs without it) until `allow()`. Does nothing, and
    returns False, once pandas or pyarrow is loaded: a process never sees pyarrow come and go."""
    if "pandas" in sys.modules or "pyarrow" in sys.modules:
        return False
    sys.modules["pyarrow"] = None  # type: ignore[assignment]  # `import pyarrow` -> ImportError
    return True


def allow() -> None:
    """Let pyarrow load again (before writing Parquet, or handing work to a library that wants it)."""
    if "pyarrow" in sys.modules and sys.modules["pyarrow"] is None:
        del sys.modules["pyarrow"]


def to_parquet(frame, handle) -> None:
    """Write `frame` as Parquet to the open binary `handle` (no index), with pyarrow loaded."""
    allow()
    frame.to_parquet(handle, index=False)
