"""Notification event types and delivery modes (pure vocabulary, German labels)."""

from __future__ import annotations

from koopboard.domain.catalog import N_, LabelledEnum


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
        }


# Addressed to chosen people (the Projektleitung, or the users of a requesting
# municipality), not to everyone with a role: their recipients see them without a role.
PERSONAL_EVENT_TYPES = frozenset({EventType.JOIN_REQUEST.value, EventType.DIRECTORY_CONTACT.value})


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
