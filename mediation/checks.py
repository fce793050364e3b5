"""System checks of the platform's own settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

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
