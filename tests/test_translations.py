"""The Simplified Chinese catalog is complete, well-formed and actually used.

Regenerate and compile the catalogs after changing a marked string:

    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=node_modules \
        --ignore=tests --ignore=benchmarks --no-obsolete
    .venv/bin/python manage.py makemessages -d djangojs -l zh_Hans --ignore=.venv --ignore=node_modules \
        --ignore=tests --ignore=benchmarks --ignore=frontend/static/vendor --no-obsolete
    (translate the new and fuzzy entries in frontend/locale/zh_Hans/LC_MESSAGES/*.po)
    .venv/bin/python manage.py compilemessages --ignore=.venv
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

LC_MESSAGES = Path(settings.BASE_DIR) / "frontend" / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ["django", "djangojs"]
# The same directories the makemessages commands above leave out.
IGNORED = (".venv", "node_modules", "tests", "benchmarks")
IGNORED_BY_DOMAIN = {"django": IGNORED, "djangojs": (*IGNORED, "frontend/static/vendor")}

# %(name)s, %(name)d ... and bare %s / %d; "%%" is a literal percent sign.
PYTHON_FORMAT = re.compile(r"%(?:\((?P<name>[^)]+)\))?[-#0 +]*\d*(?:\.\d+)?(?P<conv>[diouxXeEfFgGcrsa%])")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[Entry]:
    """A small PO reader: flags, msgctxt, msgid, msgid_plural, msgstr and msgstr[n],
    with continuation lines. Obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal entry, target
        if entry is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if entry is not None and target is not None:
                finish()
            entry = entry or Entry(line=number)
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            if entry is not None and target is not None:
                finish()
            continue
        if line.startswith('"'):
            assert entry is not None and target is not None, f"{path}:{number}: continuation without a keyword"
            key, index = target
            value = _unquote(line)
            if key == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, key, (getattr(entry, key) or "") + value)
            continue
        keyword, _space, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and entry is not None and target is not None and target[0] == "msgstr":
            finish()
        if entry is None:
            entry = Entry(line=number)
        if keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            entry.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(entry, keyword, _unquote(rest))
            target = (keyword, None)
        else:
            raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
    finish()
    return entries


def placeholders(text: str) -> set[str]:
    found = set()
    for match in PYTHON_FORMAT.finditer(text):
        if match.group("conv") == "%":
            continue
        found.add(match.group(0))
    return found


@pytest.fixture(scope="module", params=DOMAINS)
def domain(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def catalog(domain) -> list[Entry]:
    path = LC_MESSAGES / f"{domain}.po"
    assert path.exists(), f"{path} is missing"
    return parse_po(path)


@pytest.fixture(scope="module")
def messages(catalog) -> list[Entry]:
    """Every entry but the header."""
    return [entry for entry in catalog if entry.msgid or entry.msgctxt]


def test_header_declares_simplified_chinese(catalog):
    header = next(entry for entry in catalog if entry.msgid == "" and entry.msgctxt is None)
    assert "fuzzy" not in header.flags
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields["Language"] == "zh_Hans"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"


def test_the_catalog_has_messages(domain, messages):
    assert len(messages) > (100 if domain == "django" else 10)


def test_no_entry_is_fuzzy(messages):
    fuzzy = [entry.label for entry in messages if "fuzzy" in entry.flags]
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries: {fuzzy[:20]}"


def test_every_entry_is_translated(messages):
    untranslated = []
    for entry in messages:
        # Chinese has one plural form (nplurals=1): msgstr, or msgstr[0] for plurals.
        if set(entry.msgstr) != {0} or not all(entry.msgstr.values()):
            untranslated.append(entry.label)
    assert not untranslated, f"{len(untranslated)} untranslated entries: {untranslated[:20]}"


def test_translations_keep_every_placeholder(messages):
    broken = []
    for entry in messages:
        expected = placeholders(entry.msgid)
        if entry.msgid_plural is not None:
            expected |= placeholders(entry.msgid_plural)
        for index, text in entry.msgstr.items():
            got = placeholders(text)
            if got != expected:
                broken.append(f"{entry.label} [{index}]: expected {sorted(expected)}, got {sorted(got)}")
    assert not broken, "\n".join(broken)


def test_named_format_entries_are_flagged():
    """msgfmt checks the placeholders of python-format entries only (the JavaScript
    catalog's strings are interpolated by its interpolate(), which msgfmt ignores)."""
    unflagged = [
        entry.label
        for entry in parse_po(LC_MESSAGES / "django.po")
        if entry.msgid and any("(" in name for name in placeholders(entry.msgid)) and "python-format" not in entry.flags
    ]
    assert not unflagged, unflagged


def test_translations_are_chinese(messages):
    """Guards against an English msgstr copied over: every translation of words has a
    CJK character, except names kept as they are."""
    kept = {"URL"}
    cjk = re.compile(r"[\u3400-\u9fff]")
    latin_only = [
        entry.label
        for entry in messages
        if entry.msgid not in kept
        # "%(actor)s: %(kind)s" has no words to translate.
        and re.search(r"[A-Za-z]", PYTHON_FORMAT.sub("", entry.msgid))
        and not cjk.search(entry.msgstr[0])
    ]
    assert not latin_only, latin_only


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_msgfmt_accepts_the_catalog(domain, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / f"{domain}.mo"), str(LC_MESSAGES / f"{domain}.po")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr


def _copy_sources(destination: Path) -> None:
    """The files makemessages reads (Python, templates, text), without the ignored
    directories and without the catalogs themselves."""
    root = Path(settings.BASE_DIR)

    def ignore(directory, names):
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if path.is_dir():
                if name in IGNORED or name in ("locale", "var", "__pycache__") or name.startswith("."):
                    skipped.add(name)
            elif path.suffix not in (".py", ".html", ".txt"):
                skipped.add(name)
        return skipped

    shutil.copytree(root, destination, ignore=ignore)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_catalog_covers_every_marked_string(domain, tmp_path, monkeypatch, catalog):
    """A string marked for translation in the code but missing from the catalog would
    show in English. Extraction runs on a copy of the sources, so the working tree is
    not touched."""
    sources = tmp_path / "src"
    _copy_sources(sources)
    fresh_locale = tmp_path / "locale"
    monkeypatch.chdir(sources)
    with override_settings(LOCALE_PATHS=[str(fresh_locale)]):
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            domain=domain,
            ignore_patterns=list(IGNORED_BY_DOMAIN[domain]),
            no_obsolete=True,
            verbosity=0,
        )
    extracted = fresh_locale / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    fresh = parse_po(extracted) if extracted.exists() else []
    shipped = {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in catalog}
    missing = [
        entry.msgid
        for entry in fresh
        if entry.msgid and (entry.msgctxt, entry.msgid, entry.msgid_plural) not in shipped
    ]
    assert not missing, (
        f"{len(missing)} marked strings are not in the {domain} catalog; "
        f"run makemessages (see {Path(__file__).name}) and translate them: {missing[:20]}"
    )


# Rendering: the compiled catalog is the one Django serves.


@pytest.fixture
def compiled_catalog():
    """`make test` compiles the catalog first; compile it here too when the .mo is
    missing or older than the .po (a bare pytest run on a fresh checkout), and make
    Django reload its translations."""

    def stale(po: Path) -> bool:
        mo = po.with_suffix(".mo")
        return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime

    if any(stale(LC_MESSAGES / f"{domain}.po") for domain in DOMAINS):
        if shutil.which("msgfmt") is None:
            pytest.skip("the catalogs are not compiled and msgfmt is not installed")
        call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=list(IGNORED), verbosity=0)
        from django.utils.translation import trans_real

        trans_real._translations = {}
        trans_real._default = None
    return LC_MESSAGES


def test_chinese_catalog_is_loaded(compiled_catalog):
    with translation.override("zh-hans"):
        assert translation.gettext("Court mediation platform") == "法院在线调解平台"
        assert translation.gettext("%(time)s left") % {"time": "3 日"} == "剩余3 日"
        assert translation.ngettext("%(counter)s order", "%(counter)s orders", 5) % {"counter": 5} == "共5件工单"


@pytest.mark.django_db
def test_login_page_renders_in_chinese(client, compiled_catalog):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "法院在线调解平台" in page
    assert "用发送到我手机的验证码登录" in page
    assert "法院工作人员使用法院分配的邮箱和密码登录" in page
    assert "Court mediation platform" not in page
    assert "Sign In" not in page


@pytest.mark.django_db
def test_javascript_catalog_is_chinese(client, compiled_catalog):
    response = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    script = response.content.decode()
    # The catalog is JSON with non-ASCII characters escaped.
    assert json.dumps("发送中…")[1:-1] in script
    assert json.dumps("%(names)s正在输入…")[1:-1] in script


@pytest.mark.django_db
def test_login_page_stays_english_for_english_readers(client, compiled_catalog):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "Court mediation platform" in page
    assert "法院在线调解平台" not in page


@pytest.mark.django_db
def test_desk_renders_in_chinese(client, liaison, compiled_catalog):
    from tests.factories import WorkOrderFactory

    WorkOrderFactory(requester_name="王先生", channel="window", category="case_query")
    client.force_login(liaison)
    response = client.get("/desk/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("工单台", "诉求人", "诉讼服务大厅窗口", "案件进度查询", "已受理", "共1件工单", "剩余"):
        assert text in page, text
    for text in ("Work-order desk", "Requester", "Service-hall window", "Received", "left"):
        assert f">{text}<" not in page and f"{text} <" not in page, text
