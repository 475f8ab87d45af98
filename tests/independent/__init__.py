"""An engine-independent proof of correctness: the contract re-implemented without `model`.

`checker.check_plan` verifies a plan workbook against its input workbook; `reference_lp`
solves the same LP with scipy. Neither imports anything from the `model` package.
"""
