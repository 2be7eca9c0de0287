"""The start page's action buttons: a CSRF token and the version the item was shown with."""

from __future__ import annotations

from wtforms import HiddenField

from koopboard.inputs import BaseForm


class ItemActionForm(BaseForm):
    """Approve a cost, mark a milestone done, mark a notification read."""

    version = HiddenField()
