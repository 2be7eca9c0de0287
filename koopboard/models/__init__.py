"""All models, importable from one place (Alembic sees them through this module)."""

from koopboard.models.check import KoopCheck
from koopboard.models.cooperation import Cooperation, CooperationPartner, Membership
from koopboard.models.cost import (
    Cost,
    CostBalance,
    CostBudget,
    CostKey,
    CostKeyEntry,
    CostReceipt,
    CostShare,
    Payment,
    RecurringCost,
    StatementTerms,
    YearClosing,
)
from koopboard.models.directory import CooperationListing, JoinRequest, RegisterAssociation
from koopboard.models.history import HistoryEntry
from koopboard.models.invitation import CooperationInvitation
from koopboard.models.milestone import CalendarFeed, Milestone
from koopboard.models.municipality import Municipality
from koopboard.models.notification import (
    MilestoneAlert,
    NotificationDelivery,
    NotificationDigest,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
)
from koopboard.models.user import AccountToken, LoginSession, User

__all__ = [
    "AccountToken",
    "CalendarFeed",
    "Cooperation",
    "Cost",
    "CostBalance",
    "CostBudget",
    "CostKey",
    "CostKeyEntry",
    "CostReceipt",
    "CostShare",
    "CooperationInvitation",
    "CooperationListing",
    "CooperationPartner",
    "HistoryEntry",
    "JoinRequest",
    "KoopCheck",
    "LoginSession",
    "Membership",
    "Milestone",
    "Municipality",
    "RecurringCost",
    "RegisterAssociation",
    "MilestoneAlert",
    "NotificationDelivery",
    "NotificationDigest",
    "NotificationEvent",
    "NotificationPreference",
    "NotificationSettings",
    "Payment",
    "User",
    "StatementTerms",
    "YearClosing",
]
