"""Kooperations-Check: a municipality's seven answers, their versions, and what they suggest."""

from koopboard.check.views import bp

__all__ = ["bp"]
