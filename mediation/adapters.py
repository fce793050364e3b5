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
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from mediation import phones
from mediation.account_forms import MobileNumberField, sms_marker
from mediation.client_address import client_ip
from mediation.errors import DomainError
from mediation.models import User
from mediation.notifications import court_details
from mediation.roles import is_court_staff
from mediation.services.accounts import set_account_phone, verify_account_phone
from mediation.services.invitations import InvitationInvalid, accept_invitation, check_invitation
from mediation.verification_codes import CodeRefused, send_code

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


def join_invited_case(request, user) -> None:
    """A person who signed up through an invitation joins its case, once their number
    is verified (the code texted to it at sign-up)."""
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token or not user.phone_verified_at:
        return
    request.session.pop(INVITATION_SESSION_KEY, None)
    try:
        participant = accept_invitation(raw_token=token, user=user)
    except DomainError:
        # The account stays; the invitation page explains what went wrong when the
        # person follows the link again.
        return
    request.joined_case_id = participant.case_id


class CourtAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator. The only public sign-up is by
    following a mediator's invitation: with the mobile number it was sent to, verified
    by a texted code (and the address it was emailed to, if any). Parties sign in with a
    code texted to their number; staff never do (password, then TOTP)."""

    def is_open_for_signup(self, request):
        return pending_invitation(request) is not None

    def clean_email(self, email):
        email = super().clean_email(email)
        invitation = pending_invitation(self.request)
        if email and invitation is not None and invitation.email and email.lower() != invitation.email:
            raise forms.ValidationError(
                _("Use the address the invitation was sent to: %(email)s.") % {"email": invitation.email}
            )
        return email

    def clean_signup_phone(self, phone: str) -> str:
        """At sign-up through an invitation that names a number: that number."""
        invitation = pending_invitation(self.request)
        if invitation is not None and invitation.phone and phone != str(invitation.phone):
            raise forms.ValidationError(
                _("Use the mobile number the invitation was sent to: %(phone)s.")
                % {"phone": phones.mask(invitation.phone)}
            )
        return phone

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
        account = User.objects.filter(email__iexact=email).only("language").first() if email else None
        language = (account.language if account else "") or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def get_signup_redirect_url(self, request):
        case_id = getattr(request, "joined_case_id", None)
        if case_id:
            return reverse("case_detail", args=[case_id])
        return super().get_signup_redirect_url(request)

    def post_login(self, request, user, *, signup, **kwargs):
        if signup:
            join_invited_case(request, user)
        return super().post_login(request, user, signup=signup, **kwargs)

    # Staff never sign in by code alone --------------------------------------------

    def account_for_code_sign_in(self, phone: str) -> User | None:
        """The account a code texted to `phone` signs in: a party's, never staff's."""
        user = self.get_user_by_phone(phone)
        if user is None or is_court_staff(user):
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
        stranger's phone gets no messages, and the page does not say which numbers
        have accounts."""

    def send_account_already_exists_sms(self, phone: str) -> None:
        """As above: nothing is texted."""
