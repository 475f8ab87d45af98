"""Run statuses and the exit codes of the `sourcing` command (README "What happens when")."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPTIMAL = "optimal"
    OPTIMAL_WITH_SHORTFALL = "optimal_with_shortfall"
    SUBOPTIMAL = "suboptimal"  # time limit reached with a feasible plan: not proven optimal
    TIME_LIMIT_NO_PLAN = "time_limit_no_plan"
    NUMERICAL_TROUBLE = "numerical_trouble"
    INFEASIBLE = "infeasible"  # only possible in strict mode (--no-shortfall)


# 0 and the shortfall case share exit 0 on purpose: the workbook contract says a plan with
# shortfall is still a plan (the status and stderr say so loudly); strict mode turns it into 6.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_CODES: dict[Status, int] = {
    Status.OPTIMAL: 0,
    Status.OPTIMAL_WITH_SHORTFALL: 0,
    Status.SUBOPTIMAL: 3,
    Status.TIME_LIMIT_NO_PLAN: 4,
    Status.NUMERICAL_TROUBLE: 5,
    Status.INFEASIBLE: 6,
}

HAS_PLAN = {Status.OPTIMAL, Status.OPTIMAL_WITH_SHORTFALL, Status.SUBOPTIMAL}

# One text for every command's --help (issue 11: help shows exit codes in full).
EXIT_CODES_HELP = (
    "Exit codes: 0 a plan (optimal, or optimal with shortfall); 1 internal error; 2 input problem "
    "(nothing written); 3 time limit with a feasible plan (written, labelled suboptimal); 4 time "
    "limit without a plan; 5 numerical trouble; 6 strict mode and demand cannot be met; 130 "
    "interrupted."
)
