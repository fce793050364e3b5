"""System checks of the SMS settings: a provider named without its keys, sign name or
template map sends nothing, so `manage.py check` says so before the first message
fails; `check --deploy` adds what a court's server should not run with."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

MINIMUM_RECEIPT_TOKEN_LENGTH = 32
PROVIDER_SETTINGS = {
    "aliyun": ("SMS_ALIYUN_ACCESS_KEY_ID", "SMS_ALIYUN_ACCESS_KEY_SECRET", "SMS_ALIYUN_SIGN_NAME"),
    "tencent": ("SMS_TENCENT_SECRET_ID", "SMS_TENCENT_SECRET_KEY", "SMS_TENCENT_SDK_APP_ID", "SMS_TENCENT_SIGN_NAME"),
}
TEMPLATE_MAPS = {"aliyun": "SMS_ALIYUN_TEMPLATES", "tencent": "SMS_TENCENT_TEMPLATES"}
DEVELOPMENT_BACKENDS = {"console", "file", "locmem"}


@register(Tags.compatibility)
def check_sms_backend(app_configs, **kwargs):
    from mediation.sms import BACKENDS
    from mediation.sms.templates import TEMPLATES

    backend = settings.SMS_BACKEND
    try:
        import_string(BACKENDS.get(backend, backend))
    except ImportError:
        return [
            Error(
                f"SMS_BACKEND {backend!r} is neither a known transport nor an importable class.",
                hint=f"Use one of {', '.join(sorted(BACKENDS))}, or the dotted path of a backend class.",
                id="mediation.sms.E001",
            )
        ]
    if backend not in PROVIDER_SETTINGS:
        return []
    problems = []
    missing = [name for name in PROVIDER_SETTINGS[backend] if not getattr(settings, name, "")]
    if missing:
        problems.append(
            Error(
                f"SMS_BACKEND is {backend!r} but {', '.join(missing)} not set: no text message can be sent.",
                hint="Set them in the environment (docs/sms.md).",
                id="mediation.sms.E002",
            )
        )
    map_name = TEMPLATE_MAPS[backend]
    mapping = getattr(settings, map_name) or {}
    if backend == "tencent":
        malformed = sorted(
            code
            for code, entry in mapping.items()
            if not isinstance(entry, dict) or not entry.get("id") or not isinstance(entry.get("params"), list)
        )
        if malformed:
            problems.append(
                Error(
                    f"SMS_TENCENT_TEMPLATES entries without an id and a list of params: {', '.join(malformed)}.",
                    hint='Write each as {"id": "1794311", "params": ["code", "minutes"]}.',
                    id="mediation.sms.E003",
                )
            )
    unmapped = sorted(code for code in TEMPLATES if code not in mapping)
    if unmapped:
        problems.append(
            Warning(
                f"{map_name} has no provider template for {', '.join(unmapped)}: those messages will fail.",
                hint="Register each template with the provider and add its code to the map (docs/sms.md).",
                id="mediation.sms.W001",
            )
        )
    return problems


@register(Tags.security, deploy=True)
def check_sms_for_deployment(app_configs, **kwargs):
    backend = settings.SMS_BACKEND
    if backend in DEVELOPMENT_BACKENDS:
        return [
            Warning(
                f"SMS_BACKEND is {backend!r}: codes and notices are not sent to anyone's phone.",
                hint="Set SMS_BACKEND to aliyun or tencent with the provider's settings (docs/sms.md).",
                id="mediation.sms.W002",
            )
        ]
    token = settings.SMS_RECEIPT_TOKEN
    if len(token) < MINIMUM_RECEIPT_TOKEN_LENGTH:
        return [
            Warning(
                "SMS_RECEIPT_TOKEN is "
                + ("not set: delivery receipts are refused" if not token else "short: it can be guessed")
                + ", so messages stay 'sent' and nobody learns which never arrived.",
                hint=f"Set it to a random value of at least {MINIMUM_RECEIPT_TOKEN_LENGTH} characters and put "
                "the receipt addresses in the providers' consoles (docs/sms.md).",
                id="mediation.sms.W003",
            )
        ]
    return []
