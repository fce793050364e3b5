"""The request throttle, which lives in mediation (mediation.throttle) since the public
application pages use it too; kept here under its old name for documents' callers."""

from mediation.throttle import allow, client_key

__all__ = ["allow", "client_key"]
