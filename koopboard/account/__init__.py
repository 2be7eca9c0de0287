"""The signed-in user's own account: profile, roles, and the copy of their data (Art. 15)."""

from koopboard.account.views import bp

__all__ = ["bp"]
