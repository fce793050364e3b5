"""Domain errors. Views turn them into a clear message (or 409 in the API); the
service that raised one has changed nothing."""

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """An action that is not possible now, with a message fit to show the user."""

    def __init__(self, message, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class TransitionNotAllowed(DomainError):
    def __init__(self, message, *, code: str = "transition_not_allowed"):
        super().__init__(message, code=code)


class ActionForbidden(PermissionDenied):
    """The acting user may not do this to this object."""
