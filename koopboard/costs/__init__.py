"""Costs: cost-sharing keys, booking with four-eyes approval, payments, balances, exports."""

from koopboard.costs.views import bp

__all__ = ["bp"]
