"""Cooperations: create, edit, partners, roles, history."""

from koopboard.cooperations.views import bp

__all__ = ["bp"]
