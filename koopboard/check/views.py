"""Views of the Kooperations-Check: fill in (a new version each time), result, versions, counts."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from koopboard.check import services
from koopboard.check.forms import CheckForm
from koopboard.domain.check import AGREEMENT_CHECKLIST, FORM_STEPS, QUESTIONS, Answers, land_law
from koopboard.domain.milestones import BERLIN
from koopboard.extensions import db
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


@bp.route("/", methods=["GET", "POST"])
def fill() -> Response:
    """The seven questions, prefilled with the municipality's latest answers."""
    municipality = _municipality()
    current = services.latest(municipality.id)
    if current is not None and not CheckForm().is_submitted():
        answers = Answers.from_json(current.answers)
        form = _form_from(answers)
        form.q3_partners.data = ", ".join(services.names_of(answers.q3_partners))
    else:
        form = CheckForm()
    if form.validate_on_submit():
        partners, unknown = services.resolve_partners(form.q3_partners.data or "")
        if unknown:
            form.q3_partners.errors = [
                _("Nicht im Gemeindeverzeichnis: %(n)s", n=", ".join(unknown))
            ]
        else:
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
            )
            saved = services.save(current_user, answers)
            db.session.commit()
            flash(_("Gespeichert als Version %(n)d.", n=saved.version), "success")
            return redirect(url_for("check.result"))
    return render(
        "check/fill.html",
        form=form,
        current=current,
        municipality=municipality,
        status=form_status(not form.is_submitted()),
    )


@bp.get("/ergebnis")
def result() -> Response:
    """What the latest answers suggest: fields, partners nearby, next steps."""
    municipality = _municipality()
    current = services.latest(municipality.id)
    if current is None:
        return redirect(url_for("check.fill"))
    answers = Answers.from_json(current.answers)
    found = services.result(municipality, answers, today=datetime.now(BERLIN).date())
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
    return render(
        "check/version.html",
        municipality=municipality,
        row=row,
        answers=Answers.from_json(row.answers),
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
