"""Invitations into a cooperation: their states and who may hold which role (pure)."""

from __future__ import annotations

from koopboard.domain.catalog import N_, LabelledEnum, Role


class InvitationStatus(LabelledEnum):
    OPEN = "offen"
    ACCEPTED = "angenommen"
    DECLINED = "abgelehnt"
    WITHDRAWN = "zurueckgezogen"
    REPLACED = "ersetzt"  # a newer invitation to the same address and cooperation

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.OPEN: N_("offen"),
            cls.ACCEPTED: N_("angenommen"),
            cls.DECLINED: N_("abgelehnt"),
            cls.WITHDRAWN: N_("zurückgezogen"),
            cls.REPLACED: N_("durch eine neuere ersetzt"),
        }


# What the invite form offers, in the order a Projektleitung needs them most.
INVITABLE_ROLES = (Role.TREASURER, Role.MEMBER, Role.OBSERVER, Role.LEAD)


def may_hold(role: Role, *, of_lead_municipality: bool) -> bool:
    """A person of any partner municipality may be Kämmerei, Mitglied or Beobachtung; a
    (further) Projektleitung must belong to the lead municipality."""
    return role is not Role.LEAD or of_lead_municipality
