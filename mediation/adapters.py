from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _

from mediation.services.invitations import InvitationInvalid, check_invitation

INVITATION_SESSION_KEY = "invitation_token"


def pending_invitation(request):
    """The still-valid invitation whose link this browser followed, if any."""
    token = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
    if not token:
        return None
    try:
        return check_invitation(token)
    except InvitationInvalid:
        return None


class CourtAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator. The only public sign-up is by
    following a mediator's invitation, and then with the address it was sent to."""

    def is_open_for_signup(self, request):
        return pending_invitation(request) is not None

    def clean_email(self, email):
        email = super().clean_email(email)
        invitation = pending_invitation(self.request)
        if invitation is not None and invitation.email and email.lower() != invitation.email:
            raise forms.ValidationError(
                _("Use the address the invitation was sent to: %(email)s.") % {"email": invitation.email}
            )
        return email

    def is_email_verified(self, request, email):
        """Signing up through an invitation sent to this address proves the person
        received it there: the address is stored verified, as the invitation requires."""
        if super().is_email_verified(request, email):
            return True
        invitation = pending_invitation(request)
        return invitation is not None and bool(invitation.email) and email.strip().lower() == invitation.email

    def get_signup_redirect_url(self, request):
        case_id = getattr(request, "joined_case_id", None)
        if case_id:
            return reverse("case_detail", args=[case_id])
        return super().get_signup_redirect_url(request)
