"""The headline figures printed after a solve (`sourcing solve`, `sourcing watch`): one wording,
readable magnitudes, and never a total that adds quantities of different units."""

from __future__ import annotations

import math


def money(value: float | None, currency: str = "") -> str:
    """Currency at a readable scale: 1,468.22 bn USD, 28.50 m USD, 12,345 USD."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    size = abs(value)
    if size >= 1e9:
        text = f"{value / 1e9:,.2f} bn"
    elif size >= 1e6:
        text = f"{value / 1e6:,.2f} m"
    else:
        text = f"{value:,.0f}"
    return f"{text} {currency}".strip()


def headline_lines(plan) -> list[str]:
    """Status, objective and its parts, the cost of the caps, and what is short (in currency and
    places; shortfall quantities stay per commodity in the Shortfalls sheet)."""
    cur = plan.data.settings.currency if plan.data is not None else ""
    lines = [f"status: {plan.status}"]
    if not plan.has_plan:
        return lines
    lines.append(f"objective {money(plan.objective, cur)} = total cost {money(plan.total_cost, cur)} "
                 f"+ shortfall value {money(plan.shortfall_value, cur)} + risk {money(plan.risk_cost, cur)}")
    summary = plan.tables["Summary"].set_index("metric")["value"]
    if "cost_of_china_caps" in summary:
        lines.append(f"the China caps cost {money(float(summary['cost_of_china_caps']), cur)} together "
                     "(objective with the caps minus objective without them)")
    if plan.shortfall_total > 0:
        short = plan.tables["Shortfalls"]
        lines.append(f"WARNING: demand not met in {len(short)} place(s), worth {money(plan.shortfall_value, cur)} "
                     "at its shortfall penalty; see the Shortfalls sheet")
    return lines
