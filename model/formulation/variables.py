"""Variables of the LP.

    x[o,d,k,t] >= 0   flow of commodity k from origin o to destination d in period t (o,d,k,t) in F
                      x <= Routes.max_quantity where a route row limits it (0 blocks the route)
    u[d,k,t]   >= 0   shortfall: need (d,k,t) in N that the plan leaves unmet
    s[d,k,t], b[p,τ]  stock levels and project builds (planning.py)
    xc[o,d,k,t] >= 0  clean part of a flow, for commodities ContentRules reach (content.py)
"""

from __future__ import annotations

import numpy as np

from model.formulation import planning
from model.formulation.blocks import VarBlock
from model.formulation.sets import Index


def flow(ix: Index) -> VarBlock:
    """x[o,d,k,t] in [0, Routes.max_quantity]; cost = unit_cost + route_cost + risk_weight * risk[o]."""
    p = ix.numbers
    cost = p.flow_unit_cost(ix) + p.route_cost + p.risk_weight * p.risk
    return VarBlock("flow", lambda: ix.flows, np.zeros(len(cost)), p.route_max, cost)


def shortfall(ix: Index) -> VarBlock:
    """u[d,k,t] >= 0; cost = shortfall_penalty[k] (strict mode fixes u = 0)."""
    cost = ix.numbers.need_penalty
    n = len(cost)
    return VarBlock("shortfall", lambda: ix.needs, np.zeros(n), np.full(n, np.inf), cost)


VARIABLES = (flow, shortfall)
VARIABLES = (*VARIABLES, planning.stock, planning.build)

# issue 13: xc, the clean stream of China-content tracing (model/formulation/content.py)
from model.formulation import content as _content  # noqa: E402

VARIABLES = (*VARIABLES, *_content.VARIABLES)
