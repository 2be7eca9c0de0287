"""Who may be invited into which role (pure)."""

from koopboard.domain.catalog import Role
from koopboard.domain.invitations import INVITABLE_ROLES, may_hold


def test_a_further_projektleitung_needs_the_lead_municipality() -> None:
    assert may_hold(Role.LEAD, of_lead_municipality=True)
    assert not may_hold(Role.LEAD, of_lead_municipality=False)


def test_every_other_role_is_open_to_every_partner() -> None:
    for role in (Role.TREASURER, Role.MEMBER, Role.OBSERVER):
        assert may_hold(role, of_lead_municipality=False)
        assert may_hold(role, of_lead_municipality=True)


def test_the_form_offers_the_treasury_first_and_every_role() -> None:
    assert INVITABLE_ROLES[0] is Role.TREASURER
    assert set(INVITABLE_ROLES) == set(Role)
