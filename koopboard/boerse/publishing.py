"""Publishing a cooperation to the directory: what its Projektleitung shows, and to whom.

The view owns the commit; the listing row is audited, so every change of visibility or
text lands in the cooperation's history.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select

from koopboard.domain.directory import RADIUS_MAX_KM, SUMMARY_MAX, Visibility
from koopboard.extensions import db
from koopboard.models import Cooperation, CooperationListing, Municipality


class ListingError(ValueError):
    """A rule was broken; ``field`` names the form field the German message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ListingData:
    visibility: str
    summary: str
    seeking_partners: bool
    seeking_kreis: str | None
    seeking_radius_km: int | None


def listing_of(cooperation: Cooperation) -> CooperationListing:
    """The cooperation's listing, or a transient *intern* one (not added to the session)."""
    row = db.session.scalar(
        select(CooperationListing).where(CooperationListing.cooperation_id == cooperation.id)
    )
    if row is not None:
        return row
    return CooperationListing(
        cooperation_id=cooperation.id,
        visibility=Visibility.INTERN,
        summary="",
        seeking_partners=False,
    )


def known_kreis(name: str) -> bool:
    """Whether ``name`` is a Kreis of the register."""
    return bool(db.session.scalar(select(func.count()).where(Municipality.kreis == name).limit(1)))


def save_listing(cooperation: Cooperation, data: ListingData) -> CooperationListing:
    """Store visibility, summary and what the cooperation is looking for (caller commits)."""
    visibility = Visibility(data.visibility)
    summary = (data.summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        raise ListingError(_("Höchstens %(n)s Zeichen.", n=format_decimal(SUMMARY_MAX)), "summary")
    if visibility is not Visibility.INTERN and not summary:
        raise ListingError(
            _("Für einen Eintrag in der Kooperationsbörse braucht es eine Kurzbeschreibung."),
            "summary",
        )
    kreis = (data.seeking_kreis or "").strip() or None
    radius = data.seeking_radius_km
    if not data.seeking_partners:
        kreis, radius = None, None
    if kreis and not known_kreis(kreis):
        raise ListingError(
            _("„%(k)s“ ist kein Kreis des Gemeindeverzeichnisses.", k=kreis), "seeking_kreis"
        )
    if radius is not None and not 1 <= radius <= RADIUS_MAX_KM:
        raise ListingError(
            _("Bitte einen Umkreis zwischen 1 und %(n)d km angeben.", n=RADIUS_MAX_KM),
            "seeking_radius_km",
        )
    listing = listing_of(cooperation)
    if listing.id is None:
        db.session.add(listing)
    listing.visibility = visibility
    listing.summary = summary
    listing.seeking_partners = bool(data.seeking_partners)
    listing.seeking_kreis = kreis
    listing.seeking_radius_km = radius
    db.session.flush()
    return listing


def kreise() -> list[str]:
    """Every Kreis of the register, by name (for the pickers)."""
    return list(
        db.session.scalars(select(Municipality.kreis).distinct().order_by(Municipality.kreis))
    )
