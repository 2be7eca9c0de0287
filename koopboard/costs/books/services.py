"""The books of a cooperation: booking costs (shares by the year's key), the four-eyes
approval, payments, year closing and the partners' balances. The view owns the commit.

The arithmetic lives in ``koopboard.domain`` (``allocate``, ``keys``, ``settlement``);
this module loads, calls it, writes rows and notification events.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, union_all

from koopboard.costs.keys.services import key_for, key_weighting
from koopboard.costs.services import (
    CostError,
    check_open,
    check_version,
    first_open_year,
    is_closed,
    partner_label,
    partners_of,
)
from koopboard.domain import keys as keydomain
from koopboard.domain.allocation import AllocationError, Why, explain, german_reason
from koopboard.domain.catalog import N_, Rechtsform, Role
from koopboard.domain.keys import KeyKind, SharingKeyError
from koopboard.domain.messages import Msg
from koopboard.domain.money import Amount, format_eur
from koopboard.domain.notifications import EventType
from koopboard.domain.settlement import (
    Balance,
    SettlementError,
    Transfer,
    minimal_transfers,
    via_paying_office,
)
from koopboard.extensions import db
from koopboard.models import (
    Cooperation,
    CooperationPartner,
    Membership,
    Municipality,
    NotificationEvent,
    User,
)
from koopboard.models.cost import (
    Cost,
    CostBalance,
    CostKey,
    CostKind,
    CostShare,
    CostState,
    Payment,
    PaymentKind,
    RecurringCost,
    YearClosing,
)
from koopboard.models.types import utcnow
from koopboard.notifications.outbox import publish as _publish

PAGE_SIZE = 50


class FourEyesError(CostError):
    """Approving one's own cost: the four-eyes principle forbids it (answered with 403)."""


# Why a person may not approve a cost, said of them and to them (marked for Babel; the
# pages translate them).
REASONS_THEY = {
    "created": N_("hat die Kosten erfasst"),
    "amount": N_("hat Betrag, Schlüssel oder zahlende Stelle zuletzt festgelegt"),
    "submitted": N_("hat die Kosten eingereicht"),
    "template": N_("hat die wiederkehrenden Kosten angelegt, aus denen der Entwurf stammt"),
    "template_amount": N_(
        "hat Betrag oder zahlende Stelle der wiederkehrenden Kosten zuletzt festgelegt"
    ),
}
REASONS_YOU = {
    "created": N_("die Kosten erfasst haben"),
    "amount": N_("Betrag, Schlüssel oder zahlende Stelle zuletzt festgelegt haben"),
    "submitted": N_("die Kosten eingereicht haben"),
    "template": N_("die wiederkehrenden Kosten angelegt haben, aus denen der Entwurf stammt"),
    "template_amount": N_(
        "Betrag oder zahlende Stelle der wiederkehrenden Kosten zuletzt festgelegt haben"
    ),
}


@dataclass(frozen=True)
class Excluded:
    """A person the four-eyes rule keeps from approving a cost, with every reason."""

    user_id: int
    name: str
    municipality: str
    reasons: tuple[str, ...]  # keys of REASONS_THEY / REASONS_YOU


def four_eyes_reasons(
    cost: Any, template_created_by_id: int | None, template_amount_set_by_id: int | None
) -> dict[int, list[str]]:
    """The four-eyes rule: who may not approve ``cost`` (anything with its ``created_by_id``,
    ``amount_set_by_id``, ``submitted_by_id``), each with every reason (keys of
    REASONS_THEY / REASONS_YOU); the template's ids if it came from a recurring cost."""
    reasons: dict[int, list[str]] = {}

    def add(user_id: int | None, why: str) -> None:
        if user_id is not None and why not in reasons.setdefault(user_id, []):
            reasons[user_id].append(why)

    add(cost.created_by_id, "created")
    add(cost.amount_set_by_id, "amount")
    add(cost.submitted_by_id, "submitted")
    add(template_created_by_id, "template")
    add(template_amount_set_by_id, "template_amount")
    return reasons


def excluded_from_approval(cost: Cost) -> list[Excluded]:
    """Whoever created the cost, last chose its amount, key or payer, submitted it, or
    authored (or last priced) the recurring template it came from (one query)."""
    template = None
    if cost.recurring_id is not None:
        template = db.session.execute(
            select(RecurringCost.created_by_id, RecurringCost.amount_set_by_id).where(
                RecurringCost.id == cost.recurring_id
            )
        ).one_or_none()
    reasons = four_eyes_reasons(
        cost,
        template.created_by_id if template is not None else None,
        template.amount_set_by_id if template is not None else None,
    )
    if not reasons:
        return []
    rows = db.session.execute(
        select(User.id, User.name, Municipality.name)
        .outerjoin(Municipality, Municipality.id == User.municipality_id)
        .where(User.id.in_(reasons))
    ).all()
    names = {row[0]: (row[1], row[2] or "") for row in rows}
    return [
        Excluded(uid, *names.get(uid, ("–", "")), tuple(why))
        for uid, why in reasons.items()
        if uid in names
    ]


def approvers(cooperation: Cooperation, cost: Cost, excluded: list[Excluded]) -> list[tuple]:
    """Who can approve this cost: (name, municipality) of the deciders the rule leaves."""
    roles = [Role.TREASURER]
    if cooperation.lead_may_approve and treasurer_count(cooperation.id) == 1:
        roles.append(Role.LEAD)
    out = {e.user_id for e in excluded}
    rows = db.session.execute(
        select(User.id, User.name, Municipality.name)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Municipality, Municipality.id == User.municipality_id)
        .where(Membership.cooperation_id == cooperation.id, Membership.role.in_(roles))
        .order_by(User.name)
    ).all()
    return [(name, town or "") for uid, name, town in rows if uid not in out]


# --- reading ------------------------------------------------------------------------------


def treasurer_count(cooperation_id: int) -> int:
    """How many treasurers the cooperation has."""
    return db.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.cooperation_id == cooperation_id, Membership.role == Role.TREASURER
        )
    )


def decides(role: Role | None, *, lead_may_approve: bool, treasurers: Callable[[], int]) -> bool:
    """Who approves or rejects: Kämmerei; the lead too if the cooperation allows it and has
    only one treasurer (four-eyes still applies: nobody approves what they booked).
    ``treasurers`` counts them, asked only when it matters."""
    if role is Role.TREASURER:
        return True
    return role is Role.LEAD and lead_may_approve and treasurers() == 1


def may_decide(cooperation: Cooperation, role: Role | None) -> bool:
    """``decides`` for one cooperation (counting its treasurers if needed)."""
    return decides(
        role,
        lead_may_approve=cooperation.lead_may_approve,
        treasurers=lambda: treasurer_count(cooperation.id),
    )


def get_cost(cooperation_id: int, cost_id: int) -> Cost | None:
    """The cost if it belongs to the cooperation."""
    cost = db.session.get(Cost, cost_id)
    if cost is None or cost.cooperation_id != cooperation_id:
        return None
    return cost


def shares_of(cost_id: int) -> list[CostShare]:
    """The stored shares of one cost, by municipality name."""
    return list(
        db.session.scalars(
            select(CostShare)
            .join(Municipality, Municipality.id == CostShare.municipality_id)
            .where(CostShare.cost_id == cost_id)
            .order_by(Municipality.name)
        )
    )


def costs_page(
    cooperation_id: int, year: int, state: str | None, page: int
) -> tuple[list[Any], int]:
    """One page of the year's costs (newest first) and the number of matching costs.

    Rows with only the listed columns (id, booking_date, text, category, kind, state,
    amount), not ORM objects: no identity map, no joined ``paid_by`` the list never shows."""
    where = [Cost.cooperation_id == cooperation_id, Cost.budget_year == year]
    if state in {s.value for s in CostState}:
        where.append(Cost.state == CostState(state))
    total = db.session.scalar(select(func.count(Cost.id)).where(*where))
    rows = db.session.execute(
        select(
            Cost.id,
            Cost.booking_date,
            Cost.text,
            Cost.category,
            Cost.kind,
            Cost.state,
            Cost.amount,
        )
        .where(*where)
        .order_by(Cost.booking_date.desc(), Cost.id.desc())
        .limit(PAGE_SIZE)
        .offset(max(page - 1, 0) * PAGE_SIZE)
    )
    return list(rows), total


def payments_of(cooperation_id: int, year: int) -> list[Payment]:
    """The year's payments, newest first."""
    return list(
        db.session.scalars(
            select(Payment)
            .where(Payment.cooperation_id == cooperation_id, Payment.budget_year == year)
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
        )
    )


# --- booking --------------------------------------------------------------------------------


@dataclass
class CostData:
    """The cost form, already parsed (amounts are Decimal with two places)."""

    booking_date: date
    budget_year: int
    text: str
    category: str
    kind: str
    amount: Decimal
    net_amount: Decimal | None
    vat_amount: Decimal | None
    paid_by_id: int | None


def _cost_kind(value: str) -> CostKind:
    if value not in (CostKind.KOSTEN.value, CostKind.FOERDERUNG.value):
        raise CostError(Msg("Bitte wählen Sie Kosten oder Förderung."), "kind")
    return CostKind(value)


def _check_amounts(data: CostData, kind: CostKind) -> None:
    if data.amount == 0:
        raise CostError(Msg("Der Betrag darf nicht 0 sein."), "amount")
    if kind is CostKind.KOSTEN and data.amount < 0:
        raise CostError(
            Msg(
                "Kosten sind positiv. Eine Förderung bitte als Art „Förderung“ mit negativem "
                "Betrag buchen, einen Storno über die Schaltfläche „Stornieren“."
            ),
            "amount",
        )
    if kind is CostKind.FOERDERUNG and data.amount > 0:
        raise CostError(
            Msg("Eine Förderung wird als negativer Betrag gebucht, z. B. -5.000,00."), "amount"
        )
    if data.net_amount is not None and data.vat_amount is not None:
        if data.net_amount + data.vat_amount != data.amount:
            raise CostError(
                Msg(
                    "Netto (%(net)s) und Umsatzsteuer (%(vat)s) ergeben nicht den Betrag "
                    "%(amount)s.",
                    net=Amount(data.net_amount),
                    vat=Amount(data.vat_amount),
                    amount=Amount(data.amount),
                ),
                "vat_amount",
            )
    if data.budget_year not in range(data.booking_date.year - 1, data.booking_date.year + 2):
        raise CostError(
            Msg(
                "Das Haushaltsjahr muss zum Buchungsdatum passen (Vorjahr, gleiches oder "
                "folgendes Jahr)."
            ),
            "budget_year",
        )


def split_shares(
    cooperation: Cooperation, amount: Decimal, on_date: date, year: int
) -> tuple[CostKey | None, str, list[tuple[Municipality, Decimal, Decimal, Why]]]:
    """The key used and each active partner's share with its weight and explanation."""
    active = keydomain.active_partners(partners_of(cooperation.id), on_date)
    if not active:
        raise CostError(
            Msg("Am %(day)s ist kein Partner an der Kooperation beteiligt.", day=on_date),
            "booking_date",
        )
    by_ags = {p.municipality.ags: p.municipality for p in active}
    key = key_for(cooperation.id, year)
    try:
        if key is None:
            weighting = keydomain.equal(list(by_ags))
        else:
            named = {e.municipality.ags for e in key.entries}
            if key.kind is KeyKind.PERCENTAGES:
                names = {e.municipality.ags: e.municipality.name for e in key.entries}
                names.update({a: m.name for a, m in by_ags.items()})
                keydomain.check_participants(named, by_ags, on_date, names=names)
            else:
                missing = sorted(m.name for a, m in by_ags.items() if a not in named)
                if missing:
                    raise SharingKeyError(
                        Msg(
                            "Der Schlüssel %(year)s enthält nicht alle am %(day)s beteiligten "
                            "Partner; es fehlen: %(names)s. Bitte den Schlüssel ergänzen.",
                            year=year,
                            day=on_date,
                            names=", ".join(missing),
                        ),
                        "missing_partner",
                    )
            weighting = key_weighting(key, {m.id for m in by_ags.values()})
        labels = {a: partner_label(m) for a, m in by_ags.items()}
        lines = explain(amount, weighting.weights, labels)
    except (SharingKeyError, AllocationError) as exc:
        raise CostError(exc.message, None) from exc
    description = weighting.description
    if key is None:
        description = f"{description} (kein Schlüssel für {year} hinterlegt)"
    shares = [(by_ags[line.partner], line.share, Decimal(line.weight), line.why) for line in lines]
    if sum(s for _m, s, _w, _r in shares) != amount:  # allocate guarantees it; kept under -O
        raise RuntimeError(f"shares of {amount} do not add up")
    return key, description, shares


def write_shares(cost: Cost, shares: list[tuple[Municipality, Decimal, Decimal, Why]]) -> None:
    for municipality, amount, weight, why in shares:
        db.session.add(
            CostShare(
                cost_id=cost.id,
                municipality_id=municipality.id,
                amount=amount,
                weight=weight,
                explanation=german_reason(why)[:1000],
                explanation_data=why.to_data(),
            )
        )


def check_paid_by(cooperation: Cooperation, paid_by_id: int | None) -> int:
    if paid_by_id is None:
        return cooperation.lead_municipality_id
    if paid_by_id not in {p.municipality_id for p in partners_of(cooperation.id)}:
        raise CostError(Msg("Vorgeleistet haben kann nur eine Partnerkommune."), "paid_by_id")
    return paid_by_id


def book_cost(cooperation: Cooperation, data: CostData, *, by: User) -> Cost:
    """Book a cost as draft (Entwurf) with its shares computed and stored."""
    kind = _cost_kind(data.kind)
    _check_amounts(data, kind)
    check_open(cooperation.id, data.budget_year)
    paid_by = check_paid_by(cooperation, data.paid_by_id)
    key, description, shares = split_shares(
        cooperation, data.amount, data.booking_date, data.budget_year
    )
    cost = Cost(
        cooperation_id=cooperation.id,
        budget_year=data.budget_year,
        booking_date=data.booking_date,
        text=data.text.strip(),
        category=(data.category or "").strip(),
        kind=kind,
        amount=data.amount,
        net_amount=data.net_amount,
        vat_amount=data.vat_amount,
        paid_by_id=paid_by,
        key_id=key.id if key else None,
        key_description=description[:500],
        state=CostState.ENTWURF,
        created_by_id=by.id,
        amount_set_by_id=by.id,
    )
    db.session.add(cost)
    db.session.flush()
    write_shares(cost, shares)
    db.session.flush()
    return cost


def update_cost(
    cooperation: Cooperation, cost: Cost, data: CostData, *, version: int | None, by: User
) -> None:
    """Edit a draft or rejected cost; its shares are computed anew (it never counted)."""
    check_version(cost, version)
    if cost.state not in (CostState.ENTWURF, CostState.ABGELEHNT) or cost.kind is CostKind.STORNO:
        raise CostError(Msg("Nur Entwürfe und abgelehnte Kosten lassen sich bearbeiten."), None)
    kind = _cost_kind(data.kind)
    _check_amounts(data, kind)
    check_open(cooperation.id, cost.budget_year)
    check_open(cooperation.id, data.budget_year)
    paid_by = check_paid_by(cooperation, data.paid_by_id)
    key, description, shares = split_shares(
        cooperation, data.amount, data.booking_date, data.budget_year
    )
    before = _priced(cost.amount, cost.kind, cost.paid_by_id, cost.key_id, shares_of(cost.id))
    after = _priced(data.amount, kind, paid_by, key.id if key else None, shares)
    if before != after:  # whoever chose the money now is kept from approving it
        cost.amount_set_by_id = by.id
    cost.booking_date = data.booking_date
    cost.budget_year = data.budget_year
    cost.text = data.text.strip()
    cost.category = (data.category or "").strip()
    cost.kind = kind
    cost.amount = data.amount
    cost.net_amount = data.net_amount
    cost.vat_amount = data.vat_amount
    cost.paid_by_id = paid_by
    cost.key_id = key.id if key else None
    cost.key_description = description[:500]
    cost.state = CostState.ENTWURF
    cost.rejection_reason = None
    db.session.flush()  # the version_id_col makes a concurrent UPDATE fail here
    for share in shares_of(cost.id):  # a draft's computed split, never counted
        db.session.delete(share)
    db.session.flush()
    write_shares(cost, shares)
    db.session.flush()


def _priced(
    amount: Decimal, kind: CostKind, paid_by: int | None, key_id: int | None, shares: Any
) -> tuple:
    """What decides who pays how much: amount, kind, payer, key and each partner's share."""
    split = sorted(
        (s.municipality_id, s.amount) if isinstance(s, CostShare) else (s[0].id, s[1])
        for s in shares
    )
    return (Decimal(amount), kind, paid_by, key_id, tuple(split))


# --- four-eyes ------------------------------------------------------------------------------


def _event(cost: Cost, event_type: EventType, by: User, **payload: Any) -> None:
    _publish(
        NotificationEvent(
            cooperation_id=cost.cooperation_id,
            event_type=event_type.value,
            record_type="Cost",
            record_id=cost.id,
            actor_id=by.id,
            payload={"title": cost.text, "amount": format(cost.amount, "f"), **payload},
        )
    )


def submit_cost(cost: Cost, *, version: int | None, by: User) -> None:
    """Entwurf → eingereicht."""
    check_version(cost, version)
    if cost.state is not CostState.ENTWURF:
        raise CostError(Msg("Nur Entwürfe lassen sich einreichen."), None)
    check_open(cost.cooperation_id, cost.budget_year)
    cost.state = CostState.EINGEREICHT
    cost.submitted_by_id = by.id
    cost.submitted_at = utcnow()
    _event(cost, EventType.COST_SUBMITTED, by)
    db.session.flush()


def _and(first: Msg, second: Msg) -> Msg:
    return Msg("%(a)s und %(b)s", a=first, b=second)


def approve_cost(cost: Cost, *, version: int | None, by: User) -> None:
    """eingereicht → freigegeben, by someone other than the submitter (four-eyes)."""
    check_version(cost, version)
    if cost.state is not CostState.EINGEREICHT:
        raise CostError(Msg("Nur eingereichte Kosten lassen sich freigeben."), None)
    mine = next((e for e in excluded_from_approval(cost) if e.user_id == by.id), None)
    if mine is not None:
        reasons = functools.reduce(_and, [Msg(REASONS_YOU[r]) for r in mine.reasons])
        raise FourEyesError(
            Msg(
                "Vier-Augen-Prinzip: Sie können diese Kosten nicht freigeben, weil Sie "
                "%(reasons)s. Bitte eine zweite Person der Kämmerei freigeben lassen.",
                reasons=reasons,
            )
        )
    check_open(cost.cooperation_id, cost.budget_year)
    cost.state = CostState.FREIGEGEBEN
    cost.approved_by_id = by.id
    cost.decided_at = utcnow()
    _count_approved(cost)
    _event(cost, EventType.COST_APPROVED, by)
    db.session.flush()


def reject_cost(cost: Cost, reason: str, *, version: int | None, by: User) -> None:
    """eingereicht → abgelehnt, with a reason."""
    check_version(cost, version)
    if cost.state is not CostState.EINGEREICHT:
        raise CostError(Msg("Nur eingereichte Kosten lassen sich ablehnen."), None)
    if not (reason or "").strip():
        raise CostError(Msg("Bitte einen Grund für die Ablehnung angeben."), "reason")
    check_open(cost.cooperation_id, cost.budget_year)
    cost.state = CostState.ABGELEHNT
    cost.rejection_reason = reason.strip()[:1000]
    cost.decided_at = utcnow()
    _event(cost, EventType.COST_REJECTED, by, reason=cost.rejection_reason)
    db.session.flush()


def cancel_cost(
    cooperation: Cooperation, cost: Cost, *, version: int | None, by: User, today: date
) -> Cost:
    """Storno: a counter-entry (draft) with the negated shares; the original stays."""
    check_version(cost, version)
    if cost.state is not CostState.FREIGEGEBEN or cost.kind is CostKind.STORNO:
        raise CostError(Msg("Nur freigegebene Kosten lassen sich stornieren."), None)
    already = db.session.scalar(select(Cost.id).where(Cost.reverses_id == cost.id))
    if already is not None:
        raise CostError(Msg("Diese Kosten sind bereits storniert."), None)
    # A closed year stays as it was: the counter-entry goes to the first open year.
    year = cost.budget_year
    if is_closed(cooperation.id, year):
        year = first_open_year(cooperation.id, max(today.year, cost.budget_year + 1))
    check_open(cooperation.id, year)
    counter = Cost(
        cooperation_id=cooperation.id,
        budget_year=year,
        booking_date=(
            max(today, cost.booking_date)
            if year == cost.budget_year
            else (today if today.year == year else date(year, 1, 1))
        ),
        text=f"Storno: {cost.text}"[:300],
        category=cost.category,
        kind=CostKind.STORNO,
        amount=-cost.amount,
        net_amount=-cost.net_amount if cost.net_amount is not None else None,
        vat_amount=-cost.vat_amount if cost.vat_amount is not None else None,
        paid_by_id=cost.paid_by_id,
        key_id=cost.key_id,
        key_description=cost.key_description,
        state=CostState.ENTWURF,
        reverses_id=cost.id,
        created_by_id=by.id,
    )
    db.session.add(counter)
    db.session.flush()
    for share in shares_of(cost.id):
        db.session.add(
            CostShare(
                cost_id=counter.id,
                municipality_id=share.municipality_id,
                amount=-share.amount,
                weight=share.weight,
                explanation=f"Gegenbuchung zu „{cost.text}“ vom {cost.booking_date:%d.%m.%Y}"[
                    :1000
                ],
                explanation_data={
                    "kind": "reversal",
                    "text": cost.text,
                    "date": cost.booking_date.isoformat(),
                },
            )
        )
    db.session.flush()
    return counter


# --- payments and year closing ---------------------------------------------------------------


@dataclass
class PaymentData:
    """The payment form, parsed."""

    paid_on: date
    budget_year: int
    municipality_id: int
    recipient_id: int | None
    kind: str
    amount: Decimal
    note: str


def book_payment(cooperation: Cooperation, data: PaymentData, *, by: User) -> Payment:
    """Book a payment of a partner (Abschlag to the paying office, or Ausgleich)."""
    check_open(cooperation.id, data.budget_year)
    members = {p.municipality_id for p in partners_of(cooperation.id)}
    if data.municipality_id not in members:
        raise CostError(Msg("Zahlen kann nur eine Partnerkommune."), "municipality_id")
    recipient = data.recipient_id or cooperation.lead_municipality_id
    if recipient not in members:
        raise CostError(Msg("Empfangen kann nur eine Partnerkommune."), "recipient_id")
    if recipient == data.municipality_id:
        raise CostError(
            Msg(
                "Zahlende und empfangende Kommune sind dieselbe; die federführende Kommune "
                "leistet keine Abschläge an sich selbst."
            ),
            "municipality_id",
        )
    if data.amount <= 0:
        raise CostError(Msg("Der Betrag einer Zahlung muss positiv sein."), "amount")
    try:
        kind = PaymentKind(data.kind)
    except ValueError as exc:
        raise CostError(Msg("Bitte wählen Sie eine Art der Zahlung."), "kind") from exc
    payment = Payment(
        cooperation_id=cooperation.id,
        budget_year=data.budget_year,
        paid_on=data.paid_on,
        municipality_id=data.municipality_id,
        recipient_id=recipient,
        kind=kind,
        amount=data.amount,
        note=(data.note or "").strip()[:300],
        created_by_id=by.id,
    )
    db.session.add(payment)
    db.session.flush()
    _bump(cooperation.id, payment.budget_year, payment.municipality_id, paid=payment.amount)
    _bump(cooperation.id, payment.budget_year, recipient, received=payment.amount)
    _publish(
        NotificationEvent(
            cooperation_id=cooperation.id,
            event_type=EventType.PAYMENT_BOOKED.value,
            record_type="Payment",
            record_id=payment.id,
            actor_id=by.id,
            payload={
                "title": f"{payment.municipality.name}: {format_eur(payment.amount)}",
                "amount": format(payment.amount, "f"),
                "municipality": payment.municipality.name,
                "kind": kind.value,
                "year": payment.budget_year,
            },
        )
    )
    db.session.flush()
    return payment


def close_year(cooperation: Cooperation, year: int, *, by: User) -> YearClosing:
    """Close the budget year; refused while costs of it await a decision."""
    check_open(cooperation.id, year, None)
    pending = db.session.scalar(
        select(func.count(Cost.id)).where(
            Cost.cooperation_id == cooperation.id,
            Cost.budget_year == year,
            Cost.state == CostState.EINGEREICHT,
        )
    )
    if pending:
        raise CostError(
            Msg(
                "Im Haushaltsjahr %(year)s warten noch %(n)s eingereichte Kosten auf eine "
                "Entscheidung.",
                year=year,
                n=pending,
            ),
            None,
        )
    closing = YearClosing(cooperation_id=cooperation.id, budget_year=year, closed_by_id=by.id)
    db.session.add(closing)
    db.session.flush()
    return closing


def year_counts(cooperation_id: int, year: int) -> dict[str, int]:
    """How many costs of the year are in each state, and how many payments (two queries)."""
    rows = db.session.execute(
        select(Cost.state, func.count(Cost.id))
        .where(Cost.cooperation_id == cooperation_id, Cost.budget_year == year)
        .group_by(Cost.state)
    ).all()
    counts = {state.value: 0 for state in CostState}
    counts.update({state.value: n for state, n in rows})
    counts["zahlungen"] = db.session.scalar(
        select(func.count(Payment.id)).where(
            Payment.cooperation_id == cooperation_id, Payment.budget_year == year
        )
    )
    return counts


# --- balances ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerBalance:
    """One partner's year: shares of approved costs, outlays, payments, still open."""

    municipality: Municipality
    shares: Decimal
    outlays: Decimal
    paid: Decimal
    received: Decimal

    @property
    def open(self) -> Decimal:
        """Still to pay (negative: to get back)."""
        return self.shares - self.outlays - self.paid + self.received


def _totals_from_books(cooperation_id: int, year: int) -> Any:
    """Per municipality: shares, outlays, paid, received — aggregated from the costs and
    payments themselves (the reference the maintained ``cost_balance`` rows must equal)."""
    approved = (Cost.cooperation_id == cooperation_id, Cost.budget_year == year)
    counted = Cost.state == CostState.FREIGEGEBEN
    zero = literal(Decimal("0.00"))
    parts = union_all(
        select(
            CostShare.municipality_id.label("m"),
            func.sum(CostShare.amount).label("shares"),
            zero.label("outlays"),
            zero.label("paid"),
            zero.label("received"),
        )
        .join(Cost, Cost.id == CostShare.cost_id)
        .where(*approved, counted)
        .group_by(CostShare.municipality_id),
        select(Cost.paid_by_id, zero, func.sum(Cost.amount), zero, zero)
        .where(*approved, counted, Cost.paid_by_id.is_not(None))
        .group_by(Cost.paid_by_id),
        select(Payment.municipality_id, zero, zero, func.sum(Payment.amount), zero)
        .where(Payment.cooperation_id == cooperation_id, Payment.budget_year == year)
        .group_by(Payment.municipality_id),
        select(Payment.recipient_id, zero, zero, zero, func.sum(Payment.amount))
        .where(
            Payment.cooperation_id == cooperation_id,
            Payment.budget_year == year,
            Payment.recipient_id.is_not(None),
        )
        .group_by(Payment.recipient_id),
    ).subquery()
    return (
        select(
            parts.c.m.label("m"),
            func.sum(parts.c.shares).label("shares"),
            func.sum(parts.c.outlays).label("outlays"),
            func.sum(parts.c.paid).label("paid"),
            func.sum(parts.c.received).label("received"),
        )
        .group_by(parts.c.m)
        .subquery()
    )


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _partner_balances(cooperation_id: int, totals: Any) -> list[PartnerBalance]:
    rows = db.session.execute(
        select(Municipality, totals.c.shares, totals.c.outlays, totals.c.paid, totals.c.received)
        .join(CooperationPartner, CooperationPartner.municipality_id == Municipality.id)
        .outerjoin(totals, totals.c.m == Municipality.id)
        .where(CooperationPartner.cooperation_id == cooperation_id)
        .order_by(Municipality.name)
    ).all()
    return [
        PartnerBalance(row[0], _money(row[1]), _money(row[2]), _money(row[3]), _money(row[4]))
        for row in rows
    ]


def balances_of(cooperation_id: int, year: int) -> list[PartnerBalance]:
    """Every partner's balance: one indexed read of the maintained ``cost_balance`` rows
    (kept in step by ``_bump`` on every approval and payment), however many costs."""
    totals = (
        select(
            CostBalance.municipality_id.label("m"),
            CostBalance.shares,
            CostBalance.outlays,
            CostBalance.paid,
            CostBalance.received,
        )
        .where(CostBalance.cooperation_id == cooperation_id, CostBalance.budget_year == year)
        .subquery()
    )
    return _partner_balances(cooperation_id, totals)


def balances_from_books(cooperation_id: int, year: int) -> list[PartnerBalance]:
    """The same balances aggregated from every cost and payment (slow; for checks)."""
    return _partner_balances(cooperation_id, _totals_from_books(cooperation_id, year))


def rebuild_balances(cooperation_id: int, year: int) -> None:
    """Recompute the year's maintained balances from the books (bulk loads, repairs)."""
    db.session.execute(
        delete(CostBalance).where(
            CostBalance.cooperation_id == cooperation_id, CostBalance.budget_year == year
        )
    )
    totals = _totals_from_books(cooperation_id, year)
    db.session.execute(
        insert(CostBalance).from_select(
            [
                "cooperation_id",
                "budget_year",
                "municipality_id",
                "shares",
                "outlays",
                "paid",
                "received",
            ],
            select(
                literal(cooperation_id),
                literal(year),
                totals.c.m,
                totals.c.shares,
                totals.c.outlays,
                totals.c.paid,
                totals.c.received,
            ).where(totals.c.m.is_not(None)),
        )
    )


BALANCE_COLUMNS = ("shares", "outlays", "paid", "received")


def _bump(cooperation_id: int, year: int, municipality_id: int, **deltas: Decimal) -> None:
    """Add to one partner's maintained totals: an atomic INSERT … ON CONFLICT DO UPDATE, so
    concurrent approvals and payments never lose an increment."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    values = {name: deltas.get(name, Decimal("0.00")) for name in BALANCE_COLUMNS}
    stmt = upsert(CostBalance).values(
        cooperation_id=cooperation_id,
        budget_year=year,
        municipality_id=municipality_id,
        **values,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["cooperation_id", "budget_year", "municipality_id"],
        set_={name: getattr(CostBalance, name) + stmt.excluded[name] for name in deltas},
    )
    db.session.execute(stmt)


def _count_approved(cost: Cost) -> None:
    """An approved cost now counts: its shares and its outlay go into the balances."""
    for municipality_id, amount in db.session.execute(
        select(CostShare.municipality_id, CostShare.amount).where(CostShare.cost_id == cost.id)
    ):
        _bump(cost.cooperation_id, cost.budget_year, municipality_id, shares=amount)
    if cost.paid_by_id is not None:
        _bump(cost.cooperation_id, cost.budget_year, cost.paid_by_id, outlays=cost.amount)


@dataclass(frozen=True)
class Settlement:
    """How the open balances are settled: partner to partner (Arbeitsgemeinschaft) or
    through the paying office (every other Rechtsform), with the proposed transfers."""

    via_office: bool
    office: str | None
    transfers: list[Transfer[str]]
    unbalanced: bool = False


def proposed_transfers(cooperation: Cooperation, balances: list[PartnerBalance]) -> Settlement:
    """An Arbeitsgemeinschaft settles with the fewest partner-to-partner transfers; a
    Zweckvereinbarung, a Zweckverband and every other form through the paying office, the
    lead municipality (Illingen überweist 1.046,99 € an Merchweiler)."""
    records = [
        Balance(b.municipality.name, b.shares, b.outlays + b.paid - b.received) for b in balances
    ]
    if cooperation.rechtsform is Rechtsform.ARBEITSGEMEINSCHAFT:
        try:
            return Settlement(False, None, minimal_transfers(records))
        except SettlementError:
            return Settlement(False, None, [], unbalanced=True)
    office = next(
        (
            b.municipality.name
            for b in balances
            if b.municipality.id == cooperation.lead_municipality_id
        ),
        None,
    )
    if office is None:
        return Settlement(True, None, [], unbalanced=True)
    try:
        return Settlement(True, office, via_paying_office(records, office))
    except SettlementError:
        return Settlement(True, office, [], unbalanced=True)


def balance_for(cooperation_id: int, year: int, municipality_id: int) -> PartnerBalance | None:
    """One partner's balance."""
    for balance in balances_of(cooperation_id, year):
        if balance.municipality.id == municipality_id:
            return balance
    return None
