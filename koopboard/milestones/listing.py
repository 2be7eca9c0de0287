"""The milestones list as the address says: view, filters and sort order from GET parameters.

``?ansicht=karten&phase=planung&status=in_arbeit&verantwortlich=12&ueberfaellig=1&sortierung=-faellig``
is a stable address people can share; unknown or broken values fall back to the defaults,
so no parameter can make the page fail. Filtering and sorting work on the milestones the
page loads anyway (one query), so 40 milestones cost what 5 cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from koopboard.domain.milestones import PHASE_ORDER, MilestoneStatus, Phase, is_overdue
from koopboard.models import Milestone

VIEWS = ("tabelle", "karten")
NOBODY = "offen"  # the responsible filter for milestones without a responsible municipality
STATUS_ORDER = {status: index for index, status in enumerate(MilestoneStatus)}


def _responsible_name(m: Milestone) -> tuple[bool, str]:
    municipality = m.responsible_municipality
    return (municipality is None, municipality.name.casefold() if municipality else "")


# Each sort key; ties are broken by due date and creation order, so the order is stable.
SORT_KEYS: dict[str, Callable[[Milestone], tuple]] = {
    "faellig": lambda m: (m.due_date or date.max,),
    "titel": lambda m: (m.title.casefold(),),
    "phase": lambda m: (PHASE_ORDER[Phase(m.phase)],),
    "status": lambda m: (STATUS_ORDER[MilestoneStatus(m.status)],),
    "verantwortlich": _responsible_name,
}
DEFAULT_SORT = "faellig"


@dataclass(frozen=True)
class ListQuery:
    """What the milestones page shows: the view, the filters and the sort order."""

    view: str = "tabelle"
    phase: Phase | None = None
    status: MilestoneStatus | None = None
    responsible: int | str | None = None  # a municipality id, NOBODY or None (everyone)
    overdue_only: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = False

    @property
    def filtered(self) -> bool:
        return bool(self.phase or self.status or self.responsible or self.overdue_only)

    def params(self, **changes: object) -> dict[str, str]:
        """The GET parameters of this query (with ``changes``), defaults left out."""
        query = replace(self, **changes) if changes else self  # type: ignore[arg-type]
        params: dict[str, str] = {}
        if query.view != "tabelle":
            params["ansicht"] = query.view
        if query.phase:
            params["phase"] = query.phase.value
        if query.status:
            params["status"] = query.status.value
        if query.responsible is not None:
            params["verantwortlich"] = str(query.responsible)
        if query.overdue_only:
            params["ueberfaellig"] = "1"
        if query.sort != DEFAULT_SORT or query.descending:
            params["sortierung"] = ("-" if query.descending else "") + query.sort
        return params

    def sorted_by(self, key: str) -> dict[str, str]:
        """The parameters for a click on a column head: that column, or the other direction."""
        descending = not self.descending if key == self.sort else False
        return self.params(sort=key, descending=descending)


def _enum(cls: type, value: str | None) -> object | None:
    try:
        return cls(value) if value else None
    except ValueError:
        return None


def parse(args: Mapping[str, str]) -> ListQuery:
    """The query from request arguments; anything unknown is ignored."""
    view = args.get("ansicht", "tabelle")
    responsible: int | str | None = None
    raw = (args.get("verantwortlich") or "").strip()
    if raw == NOBODY:
        responsible = NOBODY
    elif raw.isdigit() and len(raw) < 10:
        responsible = int(raw)
    sort = (args.get("sortierung") or DEFAULT_SORT).strip()
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in SORT_KEYS:
        sort, descending = DEFAULT_SORT, False
    return ListQuery(
        view=view if view in VIEWS else "tabelle",
        phase=_enum(Phase, args.get("phase")),  # type: ignore[arg-type]
        status=_enum(MilestoneStatus, args.get("status")),  # type: ignore[arg-type]
        responsible=responsible,
        overdue_only=args.get("ueberfaellig") in ("1", "ja", "on"),
        sort=sort,
        descending=descending,
    )


def apply(milestones: Iterable[Milestone], query: ListQuery, now: datetime) -> list[Milestone]:
    """The milestones that pass the filters, in the query's order (overdue: Europe/Berlin)."""
    chosen = []
    for m in milestones:
        if query.phase and m.phase is not query.phase:
            continue
        if query.status and m.status is not query.status:
            continue
        town = m.responsible_municipality_id
        if query.responsible == NOBODY and town is not None:
            continue
        if isinstance(query.responsible, int) and town != query.responsible:
            continue
        if query.overdue_only and not is_overdue(m.status, m.due_date, now):
            continue
        chosen.append(m)
    chosen.sort(key=lambda m: (m.due_date or date.max, m.id))  # the tie-break order
    primary = SORT_KEYS[query.sort]
    chosen.sort(key=primary, reverse=query.descending)  # stable: ties keep due-date order
    return chosen
