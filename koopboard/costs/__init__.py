"""Costs: cost-sharing keys, booking with four-eyes approval, payments, balances, exports."""

from koopboard.costs import (  # noqa: F401 (routes register on bp)
    budget,
    receipts,
    recurring,
    statement,
)
from koopboard.costs.views import bp

__all__ = ["bp"]
