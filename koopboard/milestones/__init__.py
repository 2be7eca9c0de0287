"""Milestones: per cooperation, inline updates, timeline, dashboard, calendar feeds."""

from koopboard.milestones import feeds  # noqa: F401  (registers the calendar-feed routes)
from koopboard.milestones.views import bp

__all__ = ["bp"]
