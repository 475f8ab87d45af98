"""Objective of the LP.

    minimise  sum_F x[o,d,k,t] * (Supply.unit_cost[o,k,t] + Routes.cost_per_unit[o,d,k]
                                  + Settings.risk_weight * Countries.risk[o])
            + sum_N u[d,k,t] * shortfall_penalty[k]

The coefficients live on the variable blocks (variables.py); this module names the parts so the
plan can report each one: production, route, risk and penalty cost.
"""

from __future__ import annotations

import numpy as np

from model.formulation.sets import Index


def cost_parts(ix: Index, x: np.ndarray, u: np.ndarray) -> dict[str, float]:
    """The objective split into the parts the Summary reports."""
    f = ix.flows
    penalty = ix.needs["commodity"].map(ix.penalty).to_numpy(dtype=float)
    return {
        "production_cost": float(f["unit_cost"].to_numpy() @ x),
        "route_cost": float(f["route_cost"].to_numpy() @ x),
        "risk_cost": float(ix.risk_weight * (f["risk"].to_numpy() @ x)),
        "shortfall_penalty_cost": float(penalty @ u),
    }
