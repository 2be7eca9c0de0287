"""Who may see and change a cooperation: the one place that decides."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select

from koopboard.domain.catalog import Role
from koopboard.extensions import db
from koopboard.models import Cooperation, Membership, User


def role_in(cooperation_id: int, user: User) -> Role | None:
    """The user's role in the cooperation, or None."""
    return db.session.scalar(
        select(Membership.role).where(
            Membership.cooperation_id == cooperation_id, Membership.user_id == user.id
        )
    )


# Built once at import: every route of a cooperation's pages runs it.
_WITH_ROLE = (
    select(Cooperation, Membership.role)
    .join(Membership, Membership.cooperation_id == Cooperation.id)
    .where(
        Cooperation.id == bindparam("cooperation_id"),
        Membership.user_id == bindparam("user_id"),
    )
)


def load_cooperation(cooperation_id: int, *allowed: Role) -> tuple[Cooperation, Role]:
    """The cooperation and the current user's role in it.

    404 without a role (its existence is not revealed); 403 with a role that may not
    do this (``allowed`` empty means any role may)."""
    row = db.session.execute(
        _WITH_ROLE, {"cooperation_id": cooperation_id, "user_id": current_user.id}
    ).first()
    if row is None:
        abort(404)
    cooperation, role = row
    if allowed and role not in allowed:
        abort(403)
    return cooperation, role


def can_manage(role: Role) -> bool:
    return role is Role.LEAD
