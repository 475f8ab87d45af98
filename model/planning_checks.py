"""Checks of the Stocks and Projects sheets that the column ranges cannot express (issue 12)."""

from __future__ import annotations

import pandas as pd

from model.errors import Problem


def planning_problems(tables: dict[str, pd.DataFrame]) -> list[Problem]:
    """A stock cannot start above its capacity (the first balance would have nowhere to put it)."""
    st = tables.get("Stocks")
    if st is None or st.empty:
        return []
    over = st["initial"].notna() & st["capacity"].notna() & (st["initial"] > st["capacity"])
    return [Problem("Stocks", int(r.row), "initial", float(r.initial),
                    f"is greater than capacity ({r.capacity:g}); a stock cannot start above its capacity")
            for r in st[over].itertuples()]


def planning_warnings(tables: dict[str, pd.DataFrame], periods: list[int]) -> list[str]:
    """A project that cannot start within the horizon never produces."""
    pr = tables.get("Projects")
    if pr is None or pr.empty or not periods:
        return []
    late = pr["first_period"].notna() & (pr["first_period"] > max(periods))
    return [f"Projects row {int(r.row)}: first_period {int(r.first_period)} is after the last period "
            f"({max(periods)}); {r.project} can never be built" for r in pr[late].itertuples()]



