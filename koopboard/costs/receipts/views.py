"""Receipt routes: download (every role) and upload or replace (Kämmerei, before approval).

A failed upload re-renders the cost page (``books.views``'s ``show_page``) with the message
next to the file field; nothing is written.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from flask import Response, abort, flash, render_template, request, url_for
from flask_babel import format_decimal
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from koopboard.costs import services
from koopboard.costs.books.views import cost_url, load_cost, show_page
from koopboard.costs.receipts.forms import ReceiptForm
from koopboard.costs.receipts.services import (
    TYPE_LABELS,
    Upload,
    attach,
    content_disposition,
    receipt_with_data,
)
from koopboard.costs.web import COOP, bp, done
from koopboard.extensions import db, htmx
from koopboard.security import is_local_path
from koopboard.web import form_status

TOO_LARGE = (
    "Die Datei ist zu groß: Belege dürfen höchstens 10 MB groß sein. Es wurde nichts "
    "gespeichert. Bitte eine kleinere Datei wählen (z. B. den Scan mit geringerer Auflösung)."
)


@bp.app_template_filter("dateigroesse")
def file_size(size: int | None) -> str:
    """1,2 MB; 820 KB; 512 Byte (German decimal comma in German)."""
    if size is None:
        return "–"
    if size < 1024:
        return f"{size}\u00a0Byte"
    unit, factor = ("MB", 1024 * 1024) if size >= 1024 * 1024 else ("KB", 1024)
    value = (Decimal(size) / factor).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{format_decimal(value, format='#,##0.#')}\u00a0{unit}"


@bp.app_template_filter("dateityp")
def type_label(media_type: str | None) -> str:
    """PDF, PNG or JPEG."""
    return TYPE_LABELS.get(media_type or "", media_type or "–")


@bp.get(COOP + "/<int:cost_id>/beleg")
def receipt_download(cooperation_id: int, cost_id: int) -> Response:
    """The receipt as an attachment (every role of the cooperation; 404 for others)."""
    cooperation, _role, cost = load_cost(cooperation_id, cost_id)
    receipt = receipt_with_data(cooperation.id, cost.id)
    if receipt is None:
        abort(404)
    response = Response(receipt.data, mimetype=receipt.media_type)
    response.headers["Content-Disposition"] = content_disposition(receipt.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Never rendered as a page of this site, even if a browser ignored the attachment.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post(COOP + "/<int:cost_id>/beleg")
def receipt_upload(cooperation_id: int, cost_id: int) -> Response:
    """Upload or replace the receipt of a cost before approval (Kämmerei)."""
    cooperation, role, cost = load_cost(cooperation_id, cost_id, *services.BOOKERS)
    form = ReceiptForm()
    if form.validate_on_submit():
        upload: Upload = form.receipt.upload  # type: ignore[attr-defined]
        try:
            replaced = attach(cooperation, cost, upload, by=current_user)
        except services.CostError as exc:
            db.session.rollback()
            db.session.expire_all()
            form.form_errors = [*form.form_errors, str(exc)]
        else:
            db.session.commit()
            verb = "ersetzt" if replaced else "gespeichert"
            flash(f"Der Beleg „{upload.filename}“ ist {verb}.", "success")
            return done(cost_url(cost))
    return show_page(cooperation, role, cost, status=form_status(False), receipt_form=form)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """A request over MAX_CONTENT_LENGTH: a clear German message, nothing written.

    htmx does not show a 413, so it is sent back to the page it came from with the message."""
    db.session.rollback()
    if htmx:
        flash(TOO_LARGE, "error")
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        target = current.path + (f"?{current.query}" if current.query else "")
        if not is_local_path(target):
            coop = (request.view_args or {}).get("cooperation_id")
            target = url_for("costs.index", cooperation_id=coop) if coop else url_for("main.index")
        return Response(status=204, headers={"HX-Redirect": target})
    return render_template("errors/error.html", code=413, message=TOO_LARGE), 413
