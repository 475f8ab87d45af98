"""Charts moved to model/io/charts.py (the writer draws them; io/ never imports report/)."""

from model.io.charts import add_charts, china_vs_cap, supply_by_source

__all__ = ["add_charts", "china_vs_cap", "supply_by_source"]
