"""Kooperationsbörse: publishing, the directory, contact and join requests."""

from koopboard.boerse.views import bp

__all__ = ["bp"]
