"""Costs: cost-sharing keys, booking with four-eyes approval, payments, balances, exports."""

from koopboard.costs import (  # noqa: F401 (routes register on bp)
    budget,
    recurring,
    statement,
    views,
)
from koopboard.costs.receipts import views as receipt_views  # noqa: F401 (routes)
from koopboard.costs.web import bp

__all__ = ["bp"]
