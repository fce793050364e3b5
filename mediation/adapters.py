from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from mediation.models import User
from mediation.notifications import court_details


@dataclass(frozen=True)
class CourtSite:
    """What allauth's mails call the site: the court, not the host the request came to."""

    name: str
    domain: str


def court_site() -> CourtSite:
    return CourtSite(name=settings.COURT_NAME, domain=urlsplit(settings.SITE_URL).netloc)


class CourtAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator. A party's person gets an
    account by accepting a mediator's invitation with a code texted to the invited
    number (mediation.services.invitations), not through this sign-up form: a link
    alone must not open an account."""

    def is_open_for_signup(self, request):
        return False

    def send_mail(self, template_prefix, email, context):
        """allauth's mails in the court's name, with its signature, and in the
        language the account chose (else the request's)."""
        context = {**court_details(), "current_site": court_site(), **context}
        account = User.objects.filter(email__iexact=email).only("language").first()
        language = (account.language if account else "") or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
