"""Notification event types and delivery modes (pure vocabulary, German labels)."""

from __future__ import annotations

from collections.abc import Iterable

from koopboard.domain.catalog import N_, LabelledEnum, Role


class EventType(LabelledEnum):
    """Every kind of event a user can be told about; keys are stored on events."""

    MILESTONE_CREATED = "milestone.created"
    MILESTONE_STATUS_CHANGED = "milestone.status_changed"
    MILESTONE_DUE_DATE_CHANGED = "milestone.due_date_changed"
    MILESTONE_DUE_SOON = "milestone.due_soon"
    MILESTONE_OVERDUE = "milestone.overdue"
    COST_SUBMITTED = "cost.submitted"
    COST_APPROVED = "cost.approved"
    COST_REJECTED = "cost.rejected"
    PAYMENT_BOOKED = "payment.booked"
    PARTNER_JOINED = "partner.joined"
    PARTNER_LEFT = "partner.left"
    ROLE_GRANTED = "role.granted"
    JOIN_REQUEST = "join_request"  # asked, accepted, declined, withdrawn (payload "step")
    DIRECTORY_CONTACT = "directory.contact"
    INVITATION_OFFERED = "invitation.offered"  # to an account holder invited with a role
    INVITATION_ACCOUNT = "invitation.account"  # to a municipality's users: a new account
    INVITATION_DECLINED = "invitation.declined"  # to the inviter
    INVITATION_WITHDRAWN = "invitation.withdrawn"  # to the invited account holder

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.MILESTONE_CREATED: N_("Neuer Meilenstein"),
            cls.MILESTONE_STATUS_CHANGED: N_("Status eines Meilensteins geändert"),
            cls.MILESTONE_DUE_DATE_CHANGED: N_("Fälligkeit eines Meilensteins geändert"),
            cls.MILESTONE_DUE_SOON: N_("Meilenstein bald fällig"),
            cls.MILESTONE_OVERDUE: N_("Meilenstein überfällig"),
            cls.COST_SUBMITTED: N_("Kosten zur Freigabe eingereicht"),
            cls.COST_APPROVED: N_("Kosten freigegeben"),
            cls.COST_REJECTED: N_("Kosten abgelehnt"),
            cls.PAYMENT_BOOKED: N_("Zahlung gebucht"),
            cls.PARTNER_JOINED: N_("Partnerkommune beigetreten"),
            cls.PARTNER_LEFT: N_("Partnerkommune ausgetreten"),
            cls.ROLE_GRANTED: N_("Rolle vergeben"),
            cls.JOIN_REQUEST: N_("Beitrittsanfrage"),
            cls.DIRECTORY_CONTACT: N_("Nachricht aus der Kooperationsbörse"),
            cls.INVITATION_OFFERED: N_("Einladung in eine Kooperation"),
            cls.INVITATION_ACCOUNT: N_("Neues Konto in Ihrer Kommune"),
            cls.INVITATION_DECLINED: N_("Einladung abgelehnt"),
            cls.INVITATION_WITHDRAWN: N_("Einladung zurückgezogen"),
        }


# Addressed to chosen people (the Projektleitung, the users of a requesting municipality,
# an invited person, the colleagues of a new account), not to everyone with a role: their
# recipients see them without a role.
PERSONAL_EVENT_TYPES = frozenset(
    {
        EventType.JOIN_REQUEST.value,
        EventType.DIRECTORY_CONTACT.value,
        EventType.INVITATION_OFFERED.value,
        EventType.INVITATION_ACCOUNT.value,
        EventType.INVITATION_DECLINED.value,
        EventType.INVITATION_WITHDRAWN.value,
    }
)


class DeliveryMode(LabelledEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.IMMEDIATE: N_("sofort"),
            cls.DIGEST: N_("in der Sammel-E-Mail"),
            cls.OFF: N_("aus"),
        }


class EventGroup(LabelledEnum):
    """What the settings page groups and the role defaults speak of."""

    MILESTONES = "milestones"
    COSTS = "costs"
    PARTNERS = "partners"
    REQUESTS = "requests"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.MILESTONES: N_("Meilensteine"),
            cls.COSTS: N_("Kosten und Zahlungen"),
            cls.PARTNERS: N_("Partner und Rollen"),
            cls.REQUESTS: N_("Beitrittsanfragen und Nachrichten aus der Kooperationsbörse"),
        }

    @property
    def event_types(self) -> list[EventType]:
        return [e for e in EventType if GROUP_OF[e] is self]


GROUP_OF: dict[EventType, EventGroup] = {
    EventType.MILESTONE_CREATED: EventGroup.MILESTONES,
    EventType.MILESTONE_STATUS_CHANGED: EventGroup.MILESTONES,
    EventType.MILESTONE_DUE_DATE_CHANGED: EventGroup.MILESTONES,
    EventType.MILESTONE_DUE_SOON: EventGroup.MILESTONES,
    EventType.MILESTONE_OVERDUE: EventGroup.MILESTONES,
    EventType.COST_SUBMITTED: EventGroup.COSTS,
    EventType.COST_APPROVED: EventGroup.COSTS,
    EventType.COST_REJECTED: EventGroup.COSTS,
    EventType.PAYMENT_BOOKED: EventGroup.COSTS,
    EventType.PARTNER_JOINED: EventGroup.PARTNERS,
    EventType.PARTNER_LEFT: EventGroup.PARTNERS,
    EventType.ROLE_GRANTED: EventGroup.PARTNERS,
    # Invitations reach people mostly without a role here: for them they come at once.
    EventType.INVITATION_OFFERED: EventGroup.PARTNERS,
    EventType.INVITATION_ACCOUNT: EventGroup.PARTNERS,
    EventType.INVITATION_DECLINED: EventGroup.PARTNERS,
    EventType.INVITATION_WITHDRAWN: EventGroup.PARTNERS,
    EventType.JOIN_REQUEST: EventGroup.REQUESTS,
    EventType.DIRECTORY_CONTACT: EventGroup.REQUESTS,
}

_NOW, _DIGEST = DeliveryMode.IMMEDIATE, DeliveryMode.DIGEST

# What a role gets when its person chose nothing: mail at once only for what that role acts
# on, the rest in the Sammel-E-Mail. The Projektleitung steers the plan, the partners and the
# requests; the Kämmerei books, approves and pays; Mitglied and Beobachtung read along.
ROLE_DEFAULTS: dict[Role, dict[EventGroup, DeliveryMode]] = {
    Role.LEAD: {
        EventGroup.MILESTONES: _NOW,
        EventGroup.COSTS: _DIGEST,
        EventGroup.PARTNERS: _NOW,
        EventGroup.REQUESTS: _NOW,
    },
    Role.TREASURER: {
        EventGroup.MILESTONES: _DIGEST,
        EventGroup.COSTS: _NOW,
        EventGroup.PARTNERS: _DIGEST,
        EventGroup.REQUESTS: _DIGEST,
    },
    Role.MEMBER: dict.fromkeys(EventGroup, _DIGEST),
    Role.OBSERVER: dict.fromkeys(EventGroup, _DIGEST),
}

# Sooner first: of several roles the most immediate default wins.
URGENCY = [DeliveryMode.IMMEDIATE, DeliveryMode.DIGEST, DeliveryMode.OFF]


def group_of(event_type: str) -> EventGroup | None:
    try:
        return GROUP_OF[EventType(event_type)]
    except ValueError:
        return None


def default_mode(roles: Iterable[Role | str], event_type: str) -> DeliveryMode:
    """The mode for someone who chose nothing: the most immediate of their roles' defaults.

    Without a role (an answer to a municipality's own join request, which has none yet) or
    for an unknown event type: at once, as the person is waiting for exactly this."""
    group = group_of(event_type)
    modes = [ROLE_DEFAULTS[Role(r)][group] for r in roles] if group else []
    return min(modes, key=URGENCY.index, default=DeliveryMode.IMMEDIATE)
