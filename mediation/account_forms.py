"""allauth's code forms on the platform's one-time codes (mediation.verification_codes).

allauth keeps a code in the session and compares it there; here the code is made,
texted, kept as a keyed hash and checked by verification_codes, so that its limits
(5 minutes, 5 wrong tries, 60 s between codes, 5 per number and 20 per address an
hour) hold for signing in too. What allauth keeps in the session is only a marker
naming the number the code went to (`sms_marker`), never the code. A form that gets
no marker (no code was texted: nobody has that number) refuses every code the same
way, so that the page does not tell who has an account."""

from __future__ import annotations

from allauth.account import forms as allauth_forms
from allauth.account.adapter import get_adapter
from allauth.core import context, ratelimit
from django import forms
from django.utils.translation import gettext_lazy as _

from mediation import phones
from mediation.client_address import client_ip
from mediation.verification_codes import CodeRefused, check_code, refusal_to_send, verify_code

SMS_MARKER_PREFIX = "sms:"


def sms_marker(phone: str) -> str:
    """What allauth stores as "the code" of a code texted to `phone`."""
    return f"{SMS_MARKER_PREFIX}{phone}"


def phone_of_marker(marker: str | None) -> str | None:
    if marker and marker.startswith(SMS_MARKER_PREFIX):
        return marker[len(SMS_MARKER_PREFIX) :]
    return None


class MobileNumberField(forms.CharField):
    """A mobile number as people type it (138 1234 5678, +852 6123 4567), cleaned to
    E.164 ("+8613812345678"), which is how accounts keep it."""

    default_error_messages = {
        "invalid": _("This is not a valid mobile number. Write it like 138 1234 5678, or with + and the country code.")
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "placeholder": "138 1234 5678"}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        number = phones.parse(value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number.as_e164


# The number a sign-in code was asked for when no code was texted (no account has it,
# or court staff's): its codes are refused exactly as a texted code's wrong tries are.
UNSENT_CODE_SESSION_KEY = "sms_unsent_code_phone"


def check_texted_code(*, marker: str | None, purpose: str, code: str) -> None:
    """Spend `code` if it is the code texted to the number of `marker` for `purpose`,
    else a ValidationError saying why (and, where waiting helps, when to try again)."""
    phone = phone_of_marker(marker)
    if phone is None and context.request is not None:
        unsent_to = context.request.session.get(UNSENT_CODE_SESSION_KEY)
        if unsent_to:
            refuse_unsent_code(unsent_to, purpose, code)
    if phone is None:
        raise get_adapter().validation_error("incorrect_code")
    try:
        verify_code(phone, purpose, code)
    except CodeRefused as refusal:
        raise forms.ValidationError(refusal.message, code=refusal.code) from refusal


def refuse_unsent_code(phone: str, purpose: str, code: str) -> None:
    """Refuse a code tried for a number no code was texted to (sign-in is not by code
    for it), as a wrong code is refused: counted, with the tries left."""
    try:
        check_code(phone, purpose, code)
    except CodeRefused as refusal:
        raise forms.ValidationError(refusal.message, code=refusal.code) from refusal
    # A code texted to that number another way (it is someone's, or staff's) still
    # signs nobody in here.
    raise forms.ValidationError(_("The code is not right. Ask for a new code."), code="wrong")


class TextedCodeMixin:
    """`clean_code` for allauth's code forms: a texted code is checked (and spent) by
    verification_codes, then allauth's own checks of the form run on it; a code
    allauth sent by email is compared as allauth does."""

    purpose = "login"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A phone's keyboard shows digits, and offers the code from the text message.
        self.fields["code"].label = _("Code")
        self.fields["code"].widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}
        )

    def clean_code(self) -> str:
        if not self.expected_code or phone_of_marker(self.expected_code) is not None:
            check_texted_code(marker=self.expected_code, purpose=self.purpose, code=self.cleaned_data["code"])
            # Proven above: allauth's comparison that follows passes, its other checks
            # (a number taken meanwhile by another account) still run.
            self.expected_code = self.cleaned_data["code"]
        return super().clean_code()


class RequestPhoneLoginCodeForm(allauth_forms.RequestLoginCodeForm):
    """Sign in with a code texted to one's mobile number. Only numbers: codes are not
    sent by email. A number whose account is court staff's is treated as a number
    without an account (no text is sent, no code works): staff sign in with their
    password and authenticator app."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("email", None)
        self.fields["phone"] = get_adapter().phone_form_field(required=True)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        # A loose throttle per address on asking at all (numbers without an account
        # included); the limits on texting are verification_codes'.
        if not ratelimit.consume(context.request, action="request_login_code", key=phone):
            raise forms.ValidationError(
                _("Too many codes were asked for from this connection. Try again in a minute."), code="throttled"
            )
        self._user = get_adapter().account_for_code_sign_in(phone)
        # Said here, with the number still in the form, whether or not an account has
        # the number (a number without one gets a code that is never texted: the
        # adapter's send_unknown_account_sms); sending checks again.
        refusal = refusal_to_send(phone, client_address=client_ip(context.request))
        if refusal is not None:
            raise forms.ValidationError(refusal.message, code=refusal.code)
        return phone

    def clean(self):
        return forms.Form.clean(self)


class ConfirmLoginCodeForm(TextedCodeMixin, allauth_forms.ConfirmLoginCodeForm):
    purpose = "login"


class ConfirmReauthenticationCodeForm(TextedCodeMixin, allauth_forms.ConfirmReauthenticationCodeForm):
    purpose = "login"


class VerifyPhoneForm(TextedCodeMixin, allauth_forms.VerifyPhoneForm):
    """The code texted to a number being added to an account (at sign-up or on the
    account page)."""

    purpose = "verify"


class ChangePhoneForm(allauth_forms.ChangePhoneForm):
    """A signed-in person adding or changing their number: a number another account
    has is refused here, before any code is texted to that other person."""

    def clean_phone(self) -> str:
        phone = super().clean_phone()
        if self.account_already_exists:
            raise get_adapter().validation_error("phone_taken")
        return phone
