"""Planansatz: the budget per year and category against the approved costs, table and chart."""
