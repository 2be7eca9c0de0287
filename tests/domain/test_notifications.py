"""The role presets of notifications: which role hears of what at once, and several roles."""

from __future__ import annotations

import pytest

from koopboard.domain.catalog import Role
from koopboard.domain.notifications import (
    GROUP_OF,
    ROLE_DEFAULTS,
    DeliveryMode,
    EventGroup,
    EventType,
    default_mode,
)

NOW, DIGEST = DeliveryMode.IMMEDIATE, DeliveryMode.DIGEST
MILESTONE = EventType.MILESTONE_STATUS_CHANGED.value
COST = EventType.COST_SUBMITTED.value
PARTNER = EventType.PARTNER_JOINED.value
REQUEST = EventType.JOIN_REQUEST.value


def test_every_event_type_has_a_group_and_every_role_a_preset_for_it() -> None:
    assert set(GROUP_OF) == set(EventType)
    assert {e for g in EventGroup for e in g.event_types} == set(EventType)
    for role in Role:
        assert set(ROLE_DEFAULTS[role]) == set(EventGroup)
        assert DeliveryMode.OFF not in ROLE_DEFAULTS[role].values()  # a preset never silences


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.TREASURER, {MILESTONE: DIGEST, COST: NOW, PARTNER: DIGEST}),
        (Role.LEAD, {MILESTONE: NOW, COST: DIGEST, PARTNER: NOW, REQUEST: NOW}),
        (Role.MEMBER, {MILESTONE: DIGEST, COST: DIGEST, PARTNER: DIGEST}),
        (Role.OBSERVER, {MILESTONE: DIGEST, COST: DIGEST, PARTNER: DIGEST}),
    ],
)
def test_presets_per_role(role: Role, expected: dict[str, DeliveryMode]) -> None:
    assert {e: default_mode([role], e) for e in expected} == expected


def test_several_roles_get_the_most_immediate_preset() -> None:
    assert default_mode([Role.MEMBER, Role.TREASURER], COST) is NOW
    assert default_mode([Role.TREASURER, Role.MEMBER], MILESTONE) is DIGEST
    assert default_mode([Role.TREASURER, Role.LEAD], MILESTONE) is NOW
    assert default_mode(["treasurer", "lead"], COST) is NOW  # stored keys work too


def test_without_a_role_or_for_an_unknown_type_at_once() -> None:
    assert default_mode([], REQUEST) is NOW  # the answer to one's own join request
    assert default_mode([Role.OBSERVER], "something.new") is NOW
