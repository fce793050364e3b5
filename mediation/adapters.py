from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from mediation.models import User
from mediation.notifications import court_details
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


@dataclass(frozen=True)
class CourtSite:
    """What allauth's mails call the site: the court, not the host the request came to."""

    name: str
    domain: str


def court_site() -> CourtSite:
    return CourtSite(name=settings.COURT_NAME, domain=urlsplit(settings.SITE_URL).netloc)


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

    def send_mail(self, template_prefix, email, context):
        """allauth's mails in the court's name, with its signature, and in the
        language the account chose (else the request's)."""
        context = {**court_details(), "current_site": court_site(), **context}
        account = User.objects.filter(email__iexact=email).only("language").first()
        language = (account.language if account else "") or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def get_signup_redirect_url(self, request):
        case_id = getattr(request, "joined_case_id", None)
        if case_id:
            return reverse("case_detail", args=[case_id])
        return super().get_signup_redirect_url(request)
