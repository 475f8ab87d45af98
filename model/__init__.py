"""Least-cost sourcing of critical minerals and chips under a China-share cap.

The notebook API (results are pandas DataFrames with the sheets' column names)::

    import model
    data = model.load_workbook("inputs/base_case.xlsx")
    plan = model.solve(data)
    plan.tables["Flows"]
"""

import os

# The reader parses worksheets with lxml (model/io/sheetxml.py). openpyxl would switch its own XML
# to lxml when it is installed, changing the bytes it writes (the base case is byte-stable) and
# parsing with entities off instead of through defusedxml: keep openpyxl on its usual path.
os.environ.setdefault("OPENPYXL_LXML", "False")

__version__ = "0.1.0"
