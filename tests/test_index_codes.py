"""The index built on integer codes builds exactly the LP the pandas-join index built.

The reference is a frozen copy of the old code (tests/independent/index_before_codes.py). Every
key table must be equal as a frame (values, order, dtypes), every parameter array equal, and the
LP equal bit for bit: A (indptr, indices, data), c, bounds, row bounds and integrality. Inputs:
the base case, generated instances (benchmarks/generate.py), the hand-made China-content
workbooks and random workbooks from the property-test generators, with stocks, projects and
content rules added.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.data import InputData, load_workbook
from model.formulation.lp import LP, assemble, build_lp
from model.formulation.sets import build_index, refresh_index
from tests.independent import index_before_codes as before
from tests.test_china_content import chips, magnets
from tests.test_planning_properties import planning_workbooks
from tests.test_properties import examples
from tests.workbooks import write_workbook

ROOT = Path(__file__).resolve().parents[1]


def _generate():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _equal_arrays(a: np.ndarray, b: np.ndarray, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    if a.dtype.kind == "f":
        assert np.array_equal(a, b, equal_nan=True), what
    else:
        assert np.array_equal(a, b), what


def _equal_numbers(a: Any, b: Any, what: str) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if dataclasses.is_dataclass(x):
            _equal_numbers(x, y, f"{what}.{f.name}")
        elif isinstance(x, np.ndarray):
            _equal_arrays(x, y, f"{what}.{f.name}")
        else:
            assert x == y, f"{what}.{f.name}"


def assert_same_lp(new: LP, old: LP) -> None:
    """Equal key tables, parameters, positions and LP arrays, exactly."""
    ni, oi = new.index, old.index
    assert ni.periods == oi.periods and ni.china == oi.china
    assert list(ni.keys) == list(oi.keys)
    for name in oi.keys:
        pd.testing.assert_frame_equal(ni.keys[name], oi.keys[name], check_exact=True, obj=f"keys[{name!r}]")
    _equal_arrays(ni.commodities, oi.commodities, "commodities")
    _equal_numbers(ni.numbers, oi.numbers, "numbers")
    npos, opos = ni.memo["numbers.positions"], oi.memo["numbers.positions"]
    assert sorted(npos) == sorted(opos)
    for key in opos:
        assert np.array_equal(npos[key], opos[key]), f"positions[{key!r}]"
    assert new.col_start == old.col_start and new.row_start == old.row_start
    for attr in ("indptr", "indices", "data"):
        _equal_arrays(getattr(new.A, attr), getattr(old.A, attr), f"A.{attr}")
    assert new.A.shape == old.A.shape
    for attr in ("c", "lower", "upper", "row_lower", "row_upper"):
        _equal_arrays(getattr(new, attr), getattr(old, attr), attr)
    if old.integrality is None:
        assert new.integrality is None
    else:
        _equal_arrays(new.integrality, old.integrality, "integrality")
    for name, block in old.row_blocks.items():
        pd.testing.assert_frame_equal(new.row_blocks[name].keys, block.keys, check_exact=True, obj=name)


def check(data: InputData) -> LP:
    new = build_lp(data)
    assert_same_lp(new, before.build_lp(data))
    assert_same_lp(build_lp(data, no_shortfall=True), before.build_lp(data, no_shortfall=True))
    return new


def from_sheets(sheets: dict[str, list[list[Any]]]) -> InputData:
    with tempfile.TemporaryDirectory() as folder:
        return load_workbook(write_workbook(Path(folder) / "book.xlsx", sheets))


# ------------------------------------------------------------------------------ fixed inputs


@pytest.fixture(scope="module")
def base_case() -> InputData:
    return load_workbook(ROOT / "inputs" / "base_case.xlsx")


def test_base_case(base_case):
    lp = check(base_case)
    assert lp.shape == (4772, 10045)  # the README's figures: the comparison is not of two empty LPs


def test_an_index_without_its_codes_derives_them_from_its_tables(base_case):
    """The patterns and positions read the sets' codes that the build keeps; an Index that lost
    them (made otherwise) derives them from its key tables and gives the same LP."""
    bare = dataclasses.replace(build_index(base_case), memo={})
    lp = assemble(refresh_index(bare, base_case))
    assert "codes" in bare.memo  # derived on first use
    assert_same_lp(lp, build_lp(base_case))


def test_base_case_with_blocked_unlisted_routes(base_case):
    data = base_case.copy()
    data.settings = dataclasses.replace(data.settings, unlisted_routes="blocked")
    check(data)


@pytest.mark.parametrize("size", ["small", "medium"])
def test_generated(size):
    gen = _generate()
    lp = check(gen.to_inputdata(getattr(gen, size)(), run_check=False))
    assert lp.shape[1] > (50_000 if size == "medium" else 1_000)


@pytest.mark.parametrize("book", [
    magnets(), magnets(["MAG", None, None, 0.5]), magnets(["MAG", None, "US", 0.3], ["MAG", 2026, "US", 0.6]),
    chips(), chips(["CHIP", None, None, 0.4]), chips(["CHIP", 2026, "Pax Silica", 0.2], ["WAFER", None, "USA", 0.1]),
], ids=lambda b: str(len(b.get("ContentRules", [])) - 1 if "ContentRules" in b else "no-rules"))
def test_content_workbooks(book):
    check(from_sheets(book))


# ----------------------------------------------------------------------------- random inputs


@st.composite
def with_rules(draw) -> dict[str, list[list[Any]]]:
    """planning_workbooks with ContentRules (blank and named periods, countries, groups, blank) and
    sometimes a ShareLimits row for `each` origin."""
    sheets = draw(planning_workbooks())
    coms = [r[0] for r in sheets["Commodities"][1:]]
    countries = [r[0] for r in sheets["Countries"][1:]]
    groups = sorted({r[2] for r in sheets["Countries"][1:] if r[2]})
    periods = sorted({r[2] for r in sheets["Supply"][1:] + sheets["Demand"][1:] if r[2] is not None})
    rules: dict[tuple, list] = {}
    for _ in range(draw(st.integers(0, 4))):
        k = draw(st.sampled_from(coms))
        t = draw(st.one_of(st.none(), st.sampled_from(periods)))
        d = draw(st.one_of(st.none(), st.sampled_from(countries), st.sampled_from(groups)))
        rules[(k, t, d)] = [k, t, d, draw(st.sampled_from([0.0, 0.3, 0.8]))]
    sheets["ContentRules"] = [["commodity", "period", "destination", "max_china_content"], *rules.values()]
    if draw(st.booleans()):  # a limit on every single origin (issue 13): entries per supplying country
        k, t = draw(st.one_of(st.none(), st.sampled_from(coms))), draw(st.one_of(st.none(), st.sampled_from(periods)))
        if not any(r[:3] == [k, t, "each"] for r in sheets["ShareLimits"][1:]):
            sheets["ShareLimits"].append([k, t, "each", None, draw(st.sampled_from([0.4, 0.7]))])
    return sheets


@examples(20)  # SOURCING_PROPERTY_EXAMPLES=500 for a deeper run, as the property tests
@given(with_rules())
def test_random_workbooks(sheets):
    check(from_sheets(sheets))
