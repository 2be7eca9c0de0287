"""The plan form: numbered rows (``category_<i>``, ``amount_<i>``, ``id_<i>``,
``version_<i>``, ``remove_<i>``) read into ``PlanRow``s with German errors per field.
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import gettext

from koopboard.costs.budget.services import PlanRow
from koopboard.domain.money import MoneyError, format_eur, parse_amount
from koopboard.models.cost import CostBudget

CATEGORY_MAX = 100
MAX_ROWS = 200  # more plan rows than any cooperation needs; bounds the form parsing
BLANK_ROWS = 3


_FIELD = re.compile(r"(category|amount|id|version|remove)_(\d+)")


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def posted_rows() -> tuple[list[PlanRow], dict[str, str]]:
    """Read the plan form; German errors per field name, nothing written."""
    indexes = sorted(
        {int(m[2]) for name in request.form if (m := _FIELD.fullmatch(name)) and len(m[2]) < 4}
    )[:MAX_ROWS]
    rows: list[PlanRow] = []
    errors: dict[str, str] = {}
    for i in indexes:
        form = request.form
        row = PlanRow(
            index=i,
            id=_int(form.get(f"id_{i}")),
            version=_int(form.get(f"version_{i}")),
            category=" ".join(form.get(f"category_{i}", "").split()),
            amount_text=form.get(f"amount_{i}", "").strip()[:60],
            remove=form.get(f"remove_{i}") == "1",
        )
        rows.append(row)
        if row.remove or row.blank:
            continue
        if not row.category:
            errors[f"category_{i}"] = gettext("Bitte eine Kategorie angeben, z. B. Personal.")
        elif len(row.category) > CATEGORY_MAX:
            errors[f"category_{i}"] = gettext(
                "Die Kategorie ist zu lang (höchstens %(n)s Zeichen).", n=CATEGORY_MAX
            )
        try:
            row.amount = parse_amount(row.amount_text)
        except MoneyError as exc:
            errors[f"amount_{i}"] = exc.message
    return rows, errors


def stored_rows(plans: list[CostBudget], blank: int = BLANK_ROWS) -> list[PlanRow]:
    """The form prefilled from the stored plan, plus some empty rows to add categories."""
    rows = [
        PlanRow(
            index=i,
            id=p.id,
            version=p.version,
            category=p.category,
            amount_text=format_eur(p.amount).removesuffix("\u00a0€"),
        )
        for i, p in enumerate(plans)
    ]
    return rows + blank_rows(len(rows), blank)


def blank_rows(start: int, count: int = BLANK_ROWS) -> list[PlanRow]:
    return [PlanRow(index=start + n) for n in range(count)]
