"""Least-cost sourcing of critical minerals and chips under a China-share cap.

The notebook API (results are pandas DataFrames with the sheets' column names)::

    import model
    data = model.load_workbook("inputs/base_case.xlsx")
    plan = model.solve(data)
    plan.tables["Flows"]
"""

__version__ = "0.1.0"
