"""The language a socket's reader reads: the one their pages are in. One rule for the
room socket and the notification socket, decided as the pages decide it (LocaleMiddleware,
then mediation.middleware.UserLanguageMiddleware): the account's chosen language, else
the language cookie, else the browser's, else the platform's."""

from __future__ import annotations

from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


def _header(scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value.decode("latin-1")
    return ""


def reader_language(scope, user) -> str:
    chosen = _supported(getattr(user, "language", ""))
    if chosen:
        return chosen
    cookies = scope.get("cookies") or parse_cookie(_header(scope, b"cookie"))
    from_cookie = _supported(cookies.get(settings.LANGUAGE_COOKIE_NAME))
    if from_cookie:
        return from_cookie
    for code, _quality in parse_accept_lang_header(_header(scope, b"accept-language")):
        browser = _supported(code)
        if browser:
            return browser
    return settings.LANGUAGE_CODE
