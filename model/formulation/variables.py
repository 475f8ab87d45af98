"""Variables of the LP.

    x[o,d,k,t] >= 0   flow of commodity k from origin o to destination d in period t (o,d,k,t) in F
                      x <= Routes.max_quantity where a route row limits it (0 blocks the route)
    u[d,k,t]   >= 0   shortfall: need (d,k,t) in N that the plan leaves unmet
"""

from __future__ import annotations

import numpy as np

from model.formulation.blocks import VarBlock
from model.formulation.sets import Index


def flow(ix: Index) -> VarBlock:
    """x[o,d,k,t] in [0, Routes.max_quantity]; cost = unit_cost + route_cost + risk_weight * risk[o]."""
    f = ix.flows
    cost = f["unit_cost"].to_numpy() + f["route_cost"].to_numpy() + ix.risk_weight * f["risk"].to_numpy()
    return VarBlock("flow", f, np.zeros(len(f)), f["route_max"].to_numpy(dtype=float), cost)


def shortfall(ix: Index) -> VarBlock:
    """u[d,k,t] >= 0; cost = shortfall_penalty[k] (strict mode fixes u = 0)."""
    n = ix.needs
    cost = n["commodity"].map(ix.penalty).to_numpy(dtype=float)
    return VarBlock("shortfall", n, np.zeros(len(n)), np.full(len(n), np.inf), cost)


VARIABLES = (flow, shortfall)
