from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter

# allauth's private internals, used in this module only (and checked at start-up by
# mediation.checks.check_allauth_integration against the version the lock file pins):
# how the session's sign-in was authenticated, and ending a half-done sign-in.
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.internal.stagekit import clear_login
from allauth.account.stages import PhoneVerificationStage
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from mediation import phones
from mediation.account_forms import UNSENT_CODE_SESSION_KEY, MobileNumberField, sms_marker
from mediation.client_address import client_ip
from mediation.models import User
from mediation.notifications import court_details
from mediation.roles import is_court_staff
from mediation.services.accounts import set_account_phone, verify_account_phone
from mediation.verification_codes import CodeRefused, record_unsent_code, send_code


@dataclass(frozen=True)
class CourtSite:
    """What allauth's mails call the site: the court, not the host the request came to."""

    name: str
    domain: str


def court_site() -> CourtSite:
    return CourtSite(name=settings.COURT_NAME, domain=urlsplit(settings.SITE_URL).netloc)


class SignUpPhoneVerificationStage(PhoneVerificationStage):
    """allauth checks the number at every sign-in of an account whose number is not
    verified (and turns away one without a number); here only at sign-up. Staff and
    earlier parties have no number; a number is added or changed on the account page,
    with a code."""

    def handle(self):
        if not self.login.signup:
            return None, True
        return super().handle()


def was_signed_in_by_code(request, user) -> bool:
    records = get_authentication_records(request, user)
    return bool(records) and records[-1].get("method") == "code"


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
        account = User.objects.filter(email__iexact=email).only("language").first() if email else None
        language = (account.language if account else "") or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    # Staff never sign in by code alone --------------------------------------------

    def account_for_code_sign_in(self, phone: str) -> User | None:
        """The account a code texted to `phone` signs in: a party's whose number was
        verified (a number typed in but never confirmed may be someone else's), never
        staff's."""
        user = self.get_user_by_phone(phone)
        if user is None or is_court_staff(user) or user.phone_verified_at is None:
            return None
        return user

    def pre_login(self, request, user, **kwargs):
        # The request form already sends no code to a staff number; this holds
        # whatever other way a code sign-in reaches here.
        if is_court_staff(user) and was_signed_in_by_code(request, user):
            clear_login(request)
            messages.error(request, _("Court staff sign in with their password and authenticator app, not by code."))
            return HttpResponseRedirect(reverse("account_login"))
        return super().pre_login(request, user, **kwargs)

    def get_reauthentication_methods(self, user):
        methods = super().get_reauthentication_methods(user)
        if user.is_authenticated and is_court_staff(user):
            methods = [method for method in methods if method["id"] != "reauthenticate_by_code"]
        return methods

    def get_login_stages(self):
        return [
            "mediation.adapters.SignUpPhoneVerificationStage"
            if path == "allauth.account.stages.PhoneVerificationStage"
            else path
            for path in super().get_login_stages()
        ]

    # Mobile numbers: User.phone (E.164), verified when phone_verified_at is set ----

    def phone_form_field(self, **kwargs):
        kwargs.pop("label", None)
        return MobileNumberField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return phone

    def get_phone(self, user):
        if not user.phone:
            return None
        return str(user.phone), user.phone_verified_at is not None

    def set_phone(self, user, phone: str, verified: bool) -> None:
        set_account_phone(user=user, phone=phone, verified=verified)

    def set_phone_verified(self, user, phone: str) -> None:
        verify_account_phone(user=user, phone=phone)

    def get_user_by_phone(self, phone: str):
        number = phones.parse(phone)
        if number is None:
            return None
        return User.objects.filter(phone=number.as_e164, is_active=True).first()

    def generate_phone_verification_code(self, *, user, phone: str) -> str:
        """Not a code: the code is made when it is texted (send_verification_code_sms)
        and kept only as a hash; allauth keeps this marker of the number instead."""
        return sms_marker(phone)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        # allauth passes `reauthentication` only when the code signs someone in (or
        # re-authenticates them); without it the code verifies a number being added.
        purpose = "login" if "reauthentication" in kwargs else "verify"
        try:
            send_code(
                phone,
                purpose,
                client_address=client_ip(self.request),
                language=user.language or translation.get_language(),
            )
        except CodeRefused as refusal:
            # Nothing was sent and allauth has stored nothing yet: back to the page,
            # saying when to try again.
            messages.error(self.request, refusal.message)
            raise ImmediateHttpResponse(HttpResponseRedirect(self.request.get_full_path())) from refusal

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        """Nothing is texted to a number without an account (nor to staff's): a
        stranger's phone gets no messages. A code that is never sent is recorded
        instead, so that the limits, the messages and every code tried answer as for
        a number with an account: the page does not say which numbers have one."""
        try:
            record_unsent_code(phone, "login", client_address=client_ip(self.request))
        except CodeRefused as refusal:
            messages.error(self.request, refusal.message)
            raise ImmediateHttpResponse(HttpResponseRedirect(self.request.get_full_path())) from refusal
        self.request.session[UNSENT_CODE_SESSION_KEY] = phone

    def send_account_already_exists_sms(self, phone: str) -> None:
        """As above: nothing is texted."""
