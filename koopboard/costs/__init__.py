"""Costs: cost-sharing keys, booking with four-eyes approval, payments, balances, receipts,
recurring costs, the Planansatz and the partners' statements.

One sub-package per feature, each with its ``services.py`` (rules), ``forms.py`` and
``views.py`` where it has them; templates under ``templates/costs/<feature>/``. What the
features share lives here: ``services`` (roles, errors, open years), ``forms`` (amount
field, version form) and ``web`` (the blueprint and small view helpers). Every route
registers on the one blueprint ``web.bp``, so endpoint names stay ``costs.<view>``.
"""

from koopboard.costs.books import views as books_views  # noqa: F401 (routes register on bp)
from koopboard.costs.budget import views as budget_views  # noqa: F401
from koopboard.costs.keys import views as keys_views  # noqa: F401
from koopboard.costs.recurring import views as recurring_views  # noqa: F401
from koopboard.costs.statements import views as statements_views  # noqa: F401
from koopboard.costs.web import bp

__all__ = ["bp"]
