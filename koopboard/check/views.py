"""Views of the Kooperations-Check: fill in (a new version each time), result, versions, counts."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from koopboard.check import services
from koopboard.check.forms import CheckForm
from koopboard.domain.check import (
    AGREEMENT_CHECKLIST,
    FORM_STEPS,
    QUESTIONS,
    Answers,
    entry_key,
    land_law,
)
from koopboard.domain.milestones import BERLIN
from koopboard.extensions import db, htmx
from koopboard.web import form_status, render

bp = Blueprint("check", __name__, url_prefix="/kooperations-check")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every page here needs a signed-in user."""


def _municipality():  # noqa: ANN202
    """The user's municipality; the check belongs to it (the admin has none: 403)."""
    if current_user.municipality is None:
        abort(403)
    return current_user.municipality


def _today():  # noqa: ANN202
    return datetime.now(BERLIN).date()


def _form_from(answers: Answers) -> CheckForm:
    form = CheckForm(formdata=None)
    form.q1_fields.data = list(answers.q1_fields)
    form.q1_text.data = answers.q1_text
    form.q2.data = answers.q2 or None
    form.q3.data = "ja" if answers.q3 else "nein"
    form.q3_fields.data = list(answers.q3_fields)
    form.q4.data = answers.q4 or None
    form.q5.data = "ja" if answers.q5 else "nein"
    form.q5_text.data = answers.q5_text
    form.q6.data = "ja" if answers.q6 else "nein"
    form.q6_text.data = answers.q6_text
    form.q7.data = "ja" if answers.q7 else "nein"
    form.q7_text.data = answers.q7_text
    return form


# What a POST of the check form asks for besides saving: a search in question 3 or 7, or
# adding a search result to the chosen ones. Those answer the form again with everything
# typed so far and write nothing (with and without JavaScript).
SEARCH_Q3, SEARCH_Q7 = "search_q3", "search_q7"


@bp.route("/", methods=["GET", "POST"])
def fill() -> Response:
    """The seven questions, prefilled with the municipality's latest answers. Question 3
    picks partner municipalities with the partner form's register search, question 7
    entries of the Kooperationsbörse (or free text)."""
    municipality = _municipality()
    current = services.latest(municipality.id)
    today = _today()
    action = None
    if request.method == "POST":
        form = CheckForm()
        partner_ags = request.form.getlist("q3_partner")
        entry_keys = request.form.getlist("q7_entry")
        added = request.form.get("q3_add", "").strip(), request.form.get("q7_add", "").strip()
        partner_ags += [added[0]] if added[0] else []
        entry_keys += [added[1]] if added[1] else []
        action = "pick" if any(added) else request.form.get("action", "save")
    else:
        answers = Answers.from_json(current.answers) if current else Answers()
        form = _form_from(answers) if current else CheckForm(formdata=None)
        partner_ags, entry_keys = list(answers.q3_partners), list(answers.q7_entries)
    partners = services.municipalities_by_ags(partner_ags)
    entries = services.entries_by_keys(entry_keys, today=today)
    q3_results: list = []
    q7_results: list = []
    status = 200
    if action == "save":
        if form.validate_on_submit():
            answers = Answers(
                q1_fields=tuple(form.q1_fields.data or ()),
                q1_text=(form.q1_text.data or "").strip(),
                q2=form.q2.data,
                q3=form.q3.data == "ja",
                q3_fields=tuple(form.q3_fields.data or ()),
                q3_partners=tuple(m.ags for m in partners),
                q4=form.q4.data,
                q5=form.q5.data == "ja",
                q5_text=(form.q5_text.data or "").strip(),
                q6=form.q6.data == "ja",
                q6_text=(form.q6_text.data or "").strip(),
                q7=form.q7.data == "ja",
                q7_text=(form.q7_text.data or "").strip(),
                q7_entries=tuple(entry_key(e.kind, e.key) for e in entries),
                q7_entry_titles=tuple(e.title for e in entries),
            )
            saved = services.save(current_user, answers)
            db.session.commit()
            flash(_("Gespeichert als Version %(n)d.", n=saved.version), "success")
            return redirect(url_for("check.result"))
        status = form_status(False)
    elif action is not None:  # a search or a pick: nothing is checked but the search field
        form.validate()
        for f in form:
            if f.name not in ("q3_query", "q7_query"):
                f.errors = []
        if action == SEARCH_Q3 and not form.q3_query.errors:
            q3_results = services.find_municipalities(form.q3_query.data or "", municipality)
        if action == SEARCH_Q7 and not form.q7_query.errors:
            q7_results = services.find_entries(form.q7_query.data or "", today=today)
        status = form_status(not (form.q3_query.errors or form.q7_query.errors))
    return render(
        "check/fill.html",
        form=form,
        current=current,
        municipality=municipality,
        partners=partners,
        entries=entries,
        chosen_keys={entry_key(e.kind, e.key) for e in entries},
        q3_results=q3_results,
        q3_query=(form.q3_query.data or "").strip() if action == SEARCH_Q3 else "",
        q7_results=q7_results,
        q7_query=(form.q7_query.data or "").strip() if action == SEARCH_Q7 else "",
        status=status,
    )


@bp.get("/kommunen")
def municipality_search() -> Response:
    """Question 3's search while typing (htmx): the partner form's results, each with
    "Hinzufügen", a submit button of the check form; chosen ones say "bereits gewählt"."""
    municipality = _municipality()
    if not htmx:  # without JavaScript the form's own "Kommune suchen" button searches
        return redirect(url_for("check.fill"))
    query = (request.args.get("q3_query") or "").strip()[:100]
    chosen = services.municipalities_by_ags(request.args.getlist("q3_partner"))
    return render(
        "check/fill.html",
        "municipalities/_results.html",
        results=services.find_municipalities(query, municipality),
        query=query,
        pick_field="q3_add",
        partner_ids={m.id for m in chosen},
    )


@bp.get("/eintraege")
def entry_search() -> Response:
    """Question 7's search while typing (htmx): published entries of the Kooperationsbörse."""
    _municipality()
    if not htmx:  # without JavaScript the form's own "In der Börse suchen" button searches
        return redirect(url_for("check.fill"))
    query = (request.args.get("q7_query") or "").strip()[:200]
    return render(
        "check/fill.html",
        "check/_entry_results.html",
        entry_results=services.find_entries(query, today=_today()),
        entry_query=query,
        chosen_entries=set(request.args.getlist("q7_entry")),
    )


@bp.get("/ergebnis")
def result() -> Response:
    """What the latest answers suggest: fields, partners nearby, next steps."""
    municipality = _municipality()
    current = services.latest(municipality.id)
    if current is None:
        return redirect(url_for("check.fill"))
    answers = Answers.from_json(current.answers)
    found = services.result(municipality, answers, today=_today())
    return render(
        "check/result.html",
        municipality=municipality,
        current=current,
        answers=answers,
        result=found,
        steps=FORM_STEPS,
        checklist=AGREEMENT_CHECKLIST,
        law=land_law(municipality.land),
    )


@bp.get("/versionen")
def history() -> Response:
    """Every saved version with who saved it when."""
    municipality = _municipality()
    return render(
        "check/versions.html", municipality=municipality, rows=services.versions(municipality.id)
    )


@bp.get("/versionen/<int:number>")
def show_version(number: int) -> Response:
    """One earlier version, read-only."""
    municipality = _municipality()
    row = services.version(municipality.id, number)
    if row is None:
        abort(404)
    answers = Answers.from_json(row.answers)
    return render(
        "check/version.html",
        municipality=municipality,
        row=row,
        answers=answers,
        partners=services.municipalities_by_ags(answers.q3_partners),
        questions=QUESTIONS,
    )


@bp.get("/uebersicht")
def overview() -> Response:
    """For the platform admin: counts per Land and Kreis, never one municipality's answers."""
    if not current_user.is_admin:
        abort(403)
    return render("check/overview.html", rows=services.aggregate())


@bp.app_template_filter("fieldlabel")
def fieldlabel(value: str) -> str:
    """A stored Handlungsfeld key in words."""
    from koopboard.domain.catalog import Handlungsfeld

    try:
        return _(Handlungsfeld(value).label)
    except ValueError:
        return value


@bp.app_template_filter("scalelabel")
def scalelabel(value: str) -> str:
    """A stored scale answer in words."""
    from koopboard.domain.check import Scale

    try:
        return _(Scale(value).label)
    except ValueError:
        return "–"
