"""Objective of the LP.

    minimise  sum_F x[o,d,k,t] * (Supply.unit_cost[o,k,t] + Routes.cost_per_unit[o,d,k]
                                  + Settings.risk_weight * Countries.risk[o])
            + sum_N u[d,k,t] * shortfall_penalty[k]
            + sum_ST s[d,k,t] * Stocks.holding_cost + sum_B b[p,τ] * (capex[p] * capacity[p] + fixed_cost[p])

The coefficients live on the variable blocks (variables.py); this module names the parts so the
plan can report each one: production, route, risk and penalty cost.
"""

from __future__ import annotations

import numpy as np

from model.formulation import planning
from model.formulation.sets import Index


def cost_parts(ix: Index, x: np.ndarray, u: np.ndarray) -> dict[str, float]:
    """The objective split into the parts the Summary reports."""
    p = ix.numbers
    return {
        "production_cost": float(p.flow_unit_cost(ix) @ x),
        "route_cost": float(p.route_cost @ x),
        "risk_cost": float(p.risk_weight * (p.risk @ x)),
        "shortfall_penalty_cost": float(p.need_penalty @ u),
    }


def planning_cost_parts(ix: Index, z: np.ndarray | None, col_start: dict[str, int]) -> dict[str, float]:
    """investment_cost and holding_cost (planning.py) of the full solution vector `z`."""
    if z is None:
        return dict.fromkeys(("investment_cost", "holding_cost"), float("nan"))
    return planning.cost_parts(ix, z, col_start)
