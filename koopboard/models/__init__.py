"""All models, importable from one place (Alembic sees them through this module)."""

from koopboard.models.cooperation import Cooperation, CooperationPartner, Membership
from koopboard.models.history import HistoryEntry
from koopboard.models.municipality import Municipality
from koopboard.models.user import AccountToken, LoginSession, User

__all__ = [
    "AccountToken",
    "Cooperation",
    "CooperationPartner",
    "HistoryEntry",
    "LoginSession",
    "Membership",
    "Municipality",
    "User",
]
