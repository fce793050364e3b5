"""Telling a page's language from its text: the English words left on a Chinese page,
the Han characters left on an English one, once names and data are taken out. Used by
the browser journeys (tests/e2e) and the page crawl (tests/test_page_languages.py)."""

from __future__ import annotations

import re

# Words allowed on a Chinese page besides names and data: abbreviations a Chinese
# reader uses as they are, and the language switcher's own "English".
ASCII_ALLOWED = {
    *("PDF", "SHA", "IP", "CA", "QR", "ID", "URL", "TOTP", "MB", "KB"),
    *("English", "Excel", "CSV", "PNG", "JPEG", "Word"),
}
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._:/+\-]*")
CJK = re.compile(r"[\u4e00-\u9fff]")
# A document's verification code (documents.services.agreement_content): data, though
# one drawn without a digit reads like three words.
VERIFICATION_CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


def english_words(text: str, data: list[str]) -> list[str]:
    """The English words in a page's text once names and data are taken out."""
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    found = []
    for token in TOKEN.findall(text):
        if any(ch.isdigit() for ch in token) or "@" in token or "/" in token or VERIFICATION_CODE.fullmatch(token):
            continue  # numbers, dates, hashes, codes, addresses, links
        for word in re.findall(r"[A-Za-z]+", token):
            if word not in ASCII_ALLOWED:
                found.append(word)
    return found


def han_characters(text: str, data: list[str]) -> list[str]:
    """The runs of Han characters in a page's text once names and data are taken out."""
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    return re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", text)
