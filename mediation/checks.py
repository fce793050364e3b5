"""System checks of the platform's own settings (`manage.py check --deploy`)."""

import inspect

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

# Shorter than a SHA-256 output, an HMAC key is easier to guess than the hash is to break.
MINIMUM_AUDIT_KEY_LENGTH = 32


@register(Tags.security, deploy=True)
def check_audit_chain_key(app_configs, **kwargs):
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if not key:
        return [
            Warning(
                "AUDIT_CHAIN_KEY is not set: the audit chain is keyed with a key derived from SECRET_KEY.",
                hint=(
                    "Set AUDIT_CHAIN_KEY in the environment to a random value of at least "
                    f"{MINIMUM_AUDIT_KEY_LENGTH} characters, kept apart from the database and its backups; "
                    "entries keyed so far keep verifying while SECRET_KEY is unchanged."
                ),
                id="mediation.W001",
            )
        ]
    if len(key) < MINIMUM_AUDIT_KEY_LENGTH:
        return [
            Warning(
                f"AUDIT_CHAIN_KEY has fewer than {MINIMUM_AUDIT_KEY_LENGTH} characters.",
                hint="Use a longer random value; move the current one to AUDIT_CHAIN_RETIRED_KEYS.",
                id="mediation.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_personal_data_keys(app_configs, **kwargs):
    """Resident ID numbers are encrypted under PERSONAL_DATA_KEYS and matched by a hash
    keyed with PERSONAL_DATA_HASH_KEY: keys of their own, not ones derived from
    SECRET_KEY, so that neither a copy of the database nor the settings file alone
    reads them."""
    missing = [name for name in ("PERSONAL_DATA_KEYS", "PERSONAL_DATA_HASH_KEY") if not getattr(settings, name)]
    if missing:
        return [
            Warning(
                f"{' and '.join(missing)} not set: personal data is protected by keys derived from SECRET_KEY.",
                hint=(
                    "Set PERSONAL_DATA_KEYS to a Fernet key (python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())') and PERSONAL_DATA_HASH_KEY to a long random value, "
                    "kept apart from the database; then run rotate_personal_data_keys (docs/people.md)."
                ),
                id="mediation.W020",
            )
        ]
    return []


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", ""}


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    """Every link the platform sends (invitations, emails, the QR code and the
    verification address printed on each PDF) starts with SITE_URL: on a court's
    server it must be the public HTTPS address that ALLOWED_HOSTS serves."""
    from django.http.request import validate_host

    from mediation.links import origin

    scheme, host, _port = origin(settings.SITE_URL)
    problems = []
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        problems.append(
            Warning(
                f"SITE_URL is {settings.SITE_URL!r}: links sent to the parties would point at this machine itself.",
                hint="Set SITE_URL to the address the parties open, e.g. https://mediation.court.example.",
                id="mediation.W003",
            )
        )
    elif not validate_host(host, settings.ALLOWED_HOSTS):
        problems.append(
            Warning(
                f"SITE_URL's host {host!r} is not in ALLOWED_HOSTS: every link sent would be refused.",
                hint="Set SITE_URL and DJANGO_ALLOWED_HOSTS to the same public host name.",
                id="mediation.W004",
            )
        )
    if scheme != "https":
        problems.append(
            Warning(
                f"SITE_URL {settings.SITE_URL!r} is not HTTPS: invitation links and the verification address on "
                "documents would be sent in the clear.",
                hint="Serve the platform over HTTPS and set SITE_URL to its https:// address.",
                id="mediation.W005",
            )
        )
    return problems


@register()
def check_identity_verifier(app_configs, **kwargs):
    """IDENTITY_VERIFIER must name an IdentityVerifier: found at start-up, not when
    the first ID check is recorded."""
    from django.core.checks import Error
    from django.core.exceptions import ImproperlyConfigured

    from mediation.identity import get_verifier

    try:
        get_verifier()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Set IDENTITY_VERIFIER to the dotted path of an IdentityVerifier subclass, or leave it unset "
                "for mediation.identity.InPersonVerifier.",
                id="mediation.E010",
            )
        ]
    return []


@register()
def check_allauth_integration(app_configs, **kwargs):
    """Signing in by SMS code relies on allauth's phone support behaving as in the
    version the lock file pins (65.x): the adapter's marker is handed to the code forms
    as `code`, and mediation.adapters uses two of allauth's internals. Another version
    must be checked before it is used: until then, the platform does not start."""
    problems = []
    try:
        import allauth
        from allauth.account import forms
        from allauth.account.internal.flows.login import get_authentication_records  # noqa: F401
        from allauth.account.internal.stagekit import clear_login  # noqa: F401
        from allauth.account.stages import PhoneVerificationStage  # noqa: F401
    except ImportError as error:
        return [Error(f"allauth's phone sign-in is not where the platform expects it: {error}", id="mediation.E001")]
    if not allauth.__version__.startswith("65."):
        problems.append(
            Error(
                f"django-allauth {allauth.__version__} is installed; SMS sign-in was built on 65.x.",
                hint="Check mediation.adapters and mediation.account_forms against this version, then this check.",
                id="mediation.E002",
            )
        )
    for name in ("ConfirmLoginCodeForm", "VerifyPhoneForm", "ConfirmReauthenticationCodeForm", "ChangePhoneForm"):
        if not hasattr(forms, name):
            problems.append(Error(f"allauth.account.forms.{name} is missing.", id="mediation.E003"))
    if "code" not in inspect.getsource(forms.BaseConfirmCodeForm.__init__):
        problems.append(Error("allauth's code forms no longer take the expected code.", id="mediation.E004"))
    return problems
