"""Was ansteht: the start page after login (what needs me, where my cooperations stand)."""

from koopboard.start.views import bp

__all__ = ["bp"]
