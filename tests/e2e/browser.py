"""What the journeys drive: the platform served by a real daphne process, Chromium
(Debian's) through Playwright, one browser context per person, and the checks every
page gets: a screenshot, axe-core, no request leaving 127.0.0.1, and in Chinese no
untranslated English."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.languages import english_words

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "e2e"
TOUR = ROOT / "docs" / "tour"
# Set TOUR_SCREENSHOTS=1 to refresh the pictures of docs/tour.md from a run.
TOUR_ENABLED = os.environ.get("TOUR_SCREENSHOTS") == "1"
TOUR_MAX_WIDTH = 1000
TOUR_PHONE_WIDTH = 390

DESKTOP = {"viewport": {"width": 1280, "height": 860}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    ),
}
SERIOUS = ("serious", "critical")
LOCAL_HOSTS = ("127.0.0.1",)
WAIT_MS = 10_000


# -- the server ---------------------------------------------------------------------------


class CuttableLink:
    """A TCP relay between one person's browser and the server: cutting it is the
    person's network going away (open sockets drop, new connections are refused),
    which `BrowserContext.set_offline` alone does not do to WebSockets."""

    def __init__(self, target_port: int):
        from rooms.server.cluster import free_port

        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._stopped = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._wakeup_r, self._wakeup_w = socket.socketpair()
        self._selector.register(self._wakeup_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="cuttable-link", daemon=True)
        self.restore()
        self._thread.start()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wakeup_w.send(b"x")

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            listener.setblocking(False)
            self._listener = listener
            self._selector.register(listener, selectors.EVENT_READ, "accept")
        self._wake()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            pairs, self._pairs = self._pairs, []
            for client, upstream in pairs:
                for sock in (client, upstream):
                    with contextlib.suppress(KeyError, ValueError):
                        self._selector.unregister(sock)
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
        self._wake()

    def close(self) -> None:
        self.cut()
        self._stopped.set()
        self._wake()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            for key, _mask in self._selector.select(timeout=0.5):
                if key.fileobj is self._wakeup_r:
                    with contextlib.suppress(OSError):
                        self._wakeup_r.recv(4096)
                    continue
                if key.data == "accept":
                    self._accept(key.fileobj)
                else:
                    self._relay(key.fileobj, key.data)

    def _accept(self, listener: socket.socket) -> None:
        with self._lock:
            if listener is not self._listener:
                return
            try:
                client, _address = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            client.setblocking(False)
            upstream.setblocking(False)
            self._pairs.append((client, upstream))
            self._selector.register(client, selectors.EVENT_READ, upstream)
            self._selector.register(upstream, selectors.EVENT_READ, client)

    def _relay(self, source: socket.socket, destination: socket.socket) -> None:
        with self._lock:
            try:
                data = source.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if data:
                try:
                    destination.setblocking(True)
                    destination.sendall(data)
                    destination.setblocking(False)
                    return
                except OSError:
                    pass
            for pair in list(self._pairs):
                if source in pair:
                    self._pairs.remove(pair)
                    for sock in pair:
                        with contextlib.suppress(KeyError, ValueError):
                            self._selector.unregister(sock)
                        sock.close()


def off_the_loop(function, *args, **kwargs):
    """Call the platform's services from the test outside Playwright's event loop
    (they push to open sockets through async_to_sync, which refuses to run in a thread
    with a running loop)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


# -- checks -------------------------------------------------------------------------------

PAGE_TEXT = """() => {
  const parts = [document.title, document.body.innerText];
  const labelled = '[placeholder], [aria-label], [title], img[alt], input[type=submit], input[type=button]';
  for (const element of document.querySelectorAll(labelled)) {
    if (element.closest('[hidden]')) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      const value = element.getAttribute(name);
      if (value) parts.push(value);
    }
    if (element.matches('input[type=submit], input[type=button]')) parts.push(element.value);
  }
  return parts.join('\\n');
}"""


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => ({
      target: n.target.join(' '), html: n.html.slice(0, 200), summary: n.failureSummary
    }))
  }));
}"""


@dataclass
class Journey:
    """One journey: its browser contexts, screenshots and the problems found."""

    browser: object
    base_url: str
    name: str
    language: str = "en"
    data: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    pages_checked: list[str] = field(default_factory=list)
    step_number: int = 0
    # Where the server writes the text messages it sends (SMS_BACKEND=file).
    sms_dir: Path | None = None

    def __post_init__(self):
        self.directory = SCREENSHOTS / self.name
        if self.directory.exists():
            for old in self.directory.glob("*.png"):
                old.unlink()
        self.directory.mkdir(parents=True, exist_ok=True)

    def person(
        self, label: str, *, phone: bool = False, width: int | None = None, base_url: str | None = None
    ) -> Person:
        """A person with a browser context of their own: a desktop, or a phone (390 px
        wide unless `width` says otherwise)."""
        options = dict(PHONE if phone else DESKTOP)
        if width:
            options["viewport"] = {**options["viewport"], "width": width}
        options["locale"] = "zh-CN" if self.language.startswith("zh") else "en-GB"
        options["timezone_id"] = "Asia/Shanghai"
        options["accept_downloads"] = True
        context = self.browser.new_context(base_url=base_url or self.base_url, **options)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(20_000)
        person = Person(self, label, context, phone=phone)
        self.people.append(person)
        return person

    def t(self, message: str) -> str:
        """`message` as the interface shows it in this journey's language."""
        from django.utils import translation

        with translation.override(self.language):
            return translation.gettext(message)

    def texts(self, to: str, template: str | None = None) -> list[dict]:
        """The text messages the server sent to `to` (E.164), oldest first, as the phone
        received them: one-time codes in clear (the stored rows mask them once sent)."""
        from mediation.sms.backends.file import read_messages

        return [
            message
            for message in read_messages(self.sms_dir)
            if message["to"] == to and (template is None or message["template"] == template)
        ]

    def texted(self, to: str, template: str) -> str:
        """The body of the last text message of `template` the server sent to `to`."""
        texts = self.texts(to, template)
        assert texts, f"no {template} text message was sent to {to}"
        return texts[-1]["body"]

    def code_texted(self, to: str, template: str = "verification_code") -> str:
        """The one-time code in the last text of `template` (a code's) sent to `to`."""
        return re.search(r"(?<!\d)(\d{6})(?!\d)", self.texted(to, template)).group(1)

    def record_request(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome-extension", "devtools"):
            return
        if parts.hostname not in LOCAL_HOSTS:
            self.outside_requests.append(url)

    def close(self) -> None:
        people, self.people = self.people, []
        for person in people:
            with contextlib.suppress(Exception):
                person.context.close()


class Person:
    def __init__(self, journey: Journey, label: str, context, *, phone: bool):
        self.journey = journey
        self.label = label
        self.context = context
        self.phone = phone
        # Requests that would leave 127.0.0.1 are recorded and never sent.
        context.route(re.compile(r"^(?!(https?|wss?)://127\.0\.0\.1[:/])[a-z-]+://"), self._refuse)
        context.on("request", lambda request: journey.record_request(request.url))
        # axe-core is injected as a script of the page's own origin, so that the
        # platform's Content-Security-Policy (scripts from 'self' only) stays in force.
        context.route(re.compile(r"/__e2e__/axe\.min\.js$"), self._serve_axe)
        context.on("page", self._watch)
        self.page = context.new_page()

    def _refuse(self, route) -> None:
        self.journey.record_request(route.request.url)
        route.abort()

    def _serve_axe(self, route) -> None:
        route.fulfill(path=str(AXE), content_type="application/javascript; charset=utf-8")

    def _watch(self, page) -> None:
        page.on("websocket", lambda ws: self.journey.record_request(ws.url))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.journey.dialogs.append(dialog.message)
        dialog.accept()

    # -- navigation -----------------------------------------------------------------------

    def goto(self, path: str, label: str, **kwargs):
        started = time.monotonic()
        response = self.page.goto(path)
        if os.environ.get("E2E_TIMING"):
            timing = response.request.timing if response else {}
            print(
                f"  goto {path}: {time.monotonic() - started:.2f}s "
                f"(response {timing.get('responseStart', 0):.0f} ms, end {timing.get('responseEnd', 0):.0f} ms)"
            )
        assert response is not None and response.ok, f"{self.label}: GET {path} answered {response and response.status}"
        self.check(label, **kwargs)
        return response

    def login(self, email: str, password: str, *, next_path: str = "") -> None:
        page = self.page
        self.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""), "sign-in")
        page.locator("input[name=login]").fill(email)
        page.locator("input[name=password]").fill(password)
        with page.expect_navigation():
            page.locator("main form[data-sign-in=password] button[type=submit]").click()
        assert "/accounts/login/" not in page.url, f"{self.label} could not sign in: {self.text()[:500]}"

    def sign_in(self, user) -> None:
        """Signed in as `user` without the sign-in page: a session made here, as the
        sign-in view would leave it (the page itself is checked in other steps)."""
        from django.conf import settings
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        self.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "domain": "127.0.0.1", "path": "/"}]
        )

    def switch_language(self, code: str) -> None:
        with self.page.expect_navigation():
            self.page.locator(f".language-switcher button[value='{code}']").click()
        assert self.page.locator("html").get_attribute("lang") == code

    def text(self) -> str:
        return self.page.locator("body").inner_text()

    def submit(self, button, label: str | None = None, **kwargs) -> None:
        """Click a button that posts a form, wait for the next page and check it."""
        with self.page.expect_navigation():
            button.click()
        self.page.wait_for_load_state()
        if label:
            self.check(label, **kwargs)

    # -- checks -----------------------------------------------------------------------------

    def check(
        self, label: str, *, page=None, tour: str | None = None, full_page: bool = False, axe: bool = True
    ) -> None:
        """A screenshot of this step, then axe-core, then (in Chinese) the words.
        `axe=False` is for a page already checked whose fields were only filled in."""
        page = page or self.page
        page.wait_for_load_state()
        journey = self.journey
        journey.step_number += 1
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.label}-{label}".lower()).strip("-")
        path = journey.directory / f"{journey.step_number:02d}-{slug}.png"
        started = time.monotonic()
        page.screenshot(path=str(path), full_page=full_page, scale="css")
        shot_at = time.monotonic()
        if tour and TOUR_ENABLED:
            save_for_tour(path, tour, max_width=TOUR_MAX_WIDTH if not self.phone else TOUR_PHONE_WIDTH)
        journey.pages_checked.append(f"{self.label}: {label} ({page.url})")
        violations = run_axe(page) if axe else []
        serious = [v for v in violations if v["impact"] in SERIOUS]
        if os.environ.get("E2E_TIMING"):
            axe_seconds = time.monotonic() - shot_at
            print(f"{time.monotonic():.1f} {path.name}: shot {shot_at - started:.2f}s axe {axe_seconds:.2f}s")
        assert not serious, f"axe-core on {page.url} ({self.label}: {label}):\n" + format_violations(serious)
        if self.phone:
            overflow = page.evaluate(WIDER_THAN_THE_SCREEN)
            assert not overflow, f"wider than the phone's screen on {page.url} ({self.label}: {label}): {overflow}"
        if journey.language.startswith("zh"):
            words = english_words(page.evaluate(PAGE_TEXT), journey.data)
            assert not words, f"untranslated on {page.url} ({self.label}: {label}): {sorted(set(words))}"


# Elements reaching past the right edge of the viewport (a phone would scroll sideways),
# named by tag and class; scrollable containers (wide tables) clip their content.
WIDER_THAN_THE_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width + 1) { return []; }
  const clipped = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') { return true; }
    }
    return false;
  };
  return Array.from(document.body.querySelectorAll('*'))
    .filter(el => el.getBoundingClientRect().right > width + 1 && el.offsetParent !== null && !clipped(el))
    .slice(0, 5)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
}"""


def run_axe(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/__e2e__/axe.min.js")
    return page.evaluate(AXE_RUN)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['html']}")
    return "\n".join(lines)


def save_for_tour(path: Path, name: str, *, max_width: int) -> None:
    """A copy for docs/tour/, small: at most `max_width` pixels wide, 128 colours."""
    from PIL import Image

    TOUR.mkdir(parents=True, exist_ok=True)
    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > max_width:
            height = round(image.height * max_width / image.width)
            image = image.resize((max_width, height), Image.LANCZOS)
        image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(TOUR / f"{name}.png", optimize=True)
