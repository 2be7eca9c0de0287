"""The Kooperationsbörse's vocabulary and rules that need no database (pure)."""

from __future__ import annotations

from koopboard.domain.catalog import N_, LabelledEnum

SUMMARY_MAX = 2000  # characters of the public summary
RADIUS_MAX_KM = 500
PAGE_SIZE_MAX = 50


class Visibility(LabelledEnum):
    """Who sees a cooperation's directory entry."""

    INTERN = "intern"  # nothing leaves the cooperation (default)
    PLATTFORM = "plattform"  # every signed-in user of any municipality
    OEFFENTLICH = "oeffentlich"  # also without login

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.INTERN: N_("intern (nur die Beteiligten der Kooperation)"),
            cls.PLATTFORM: N_("Plattform (alle angemeldeten Kommunen)"),
            cls.OEFFENTLICH: N_("öffentlich (auch ohne Anmeldung)"),
        }

    @classmethod
    def visible_to(cls, *, signed_in: bool) -> tuple[Visibility, ...]:
        """The visibilities a visitor may see in the directory."""
        return (cls.PLATTFORM, cls.OEFFENTLICH) if signed_in else (cls.OEFFENTLICH,)


class JoinRequestStatus(LabelledEnum):
    OPEN = "offen"
    ACCEPTED = "angenommen"
    DECLINED = "abgelehnt"
    WITHDRAWN = "zurueckgezogen"

    @classmethod
    def _labels(cls) -> dict:
        return {
            cls.OPEN: N_("offen"),
            cls.ACCEPTED: N_("angenommen"),
            cls.DECLINED: N_("abgelehnt"),
            cls.WITHDRAWN: N_("zurückgezogen"),
        }


def page_window(total: int, page: int, size: int) -> tuple[int, int, int]:
    """(page clamped to 1..pages, pages, offset) for ``total`` entries in pages of ``size``."""
    size = max(1, min(size, PAGE_SIZE_MAX))
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    return page, pages, (page - 1) * size
