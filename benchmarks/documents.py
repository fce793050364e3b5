"""How fast a settlement agreement, and a court's ruling, become sealed PDFs (issues 4
and 19's benchmark).

A 3-page Chinese agreement (two companies, a mediator, instalment terms filling three
A4 pages) is locked once through the services, then, RUNS times, taken through what
signing it costs:

- render: `documents.rendering.render_pdf` of the agreement template (Django template
  + WeasyPrint with the platform's cached FontConfiguration + signature-slot anchors);
- fields: the empty signature fields added at lock (`add_signature_fields`);
- sign 1..3: what `sign_agreement` does besides the database for each signer: a fresh
  one-hour certificate from the platform CA, the visible stamp image (drawn signature
  + name + time), and the incremental PAdES signature (`documents.signing.sign_field`,
  the mediator's a certification signature), each with its RFC 3161 timestamp from the
  platform's in-process TSA;
- seal: the platform's document timestamp (`documents.signing.document_timestamp`);
- verify: `documents.verification.verify_pdf` of the sealed file;

and, in the same run, bare WeasyPrint on the same HTML: `weasyprint.HTML(string=html)
.write_pdf()` and nothing else. It prints median and p95 per step, the pipeline total
(render + 3 signatures + seal) with its ratio to the bare render, and whether the goals
hold: total <= 400 ms and <= 2x bare render.

Then the civil ruling confirming that agreement (民事裁定书), RUNS times as well, laid
out as the court documents layer lays it out (`prepare_court_document`): the ruling
helper's content and context (`confirmation_court.ruling_content`, `_ruling_context`)
and the layer's own (places, seal field, verification code and QR code), rendered from
`documents/pdf/ruling.html`; its two empty fields (the judge's, the seal's); the
judge's signature (certificate, stamp, PAdES signature with its timestamp, as
`sign_court_document` makes it besides the database); the seal: the court's seal in
its field (`seal_in_place`) and the document timestamp; verifying the sealed file; and
bare WeasyPrint on the ruling's HTML. Same goals: render + judge's signature + seal
<= 400 ms and <= 2x bare render.

Then a few knobs, and a cProfile of three party signatures showing where their time
goes.

Django is set up on a throwaway SQLite database with temporary keys and storage in a
temporary directory (nothing under var/ is touched); the timestamping server is the
platform's own key (TIMESTAMP_URL is cleared).

    make bench-documents                 # or: .venv/bin/python benchmarks/documents.py
    BENCH_RUNS=10 BENCH_WARMUP=2 BENCH_KNOB_RUNS=7 BENCH_PROFILE=1 (0 to skip the profile)
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import io
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
KNOB_RUNS = int(os.environ.get("BENCH_KNOB_RUNS", "7"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") not in ("", "0")
TOTAL_GOAL_MS = 400
RATIO_GOAL = 2.0
TARGET_PAGES = 3

PLAINTIFF = "上海星河文化传媒有限公司"
DEFENDANT = "北京云图科技有限公司"
FACTS = [
    "2025年3月1日，原告上海星河文化传媒有限公司与被告北京云图科技有限公司签订《宣传视频制作合同》，"
    "约定由原告为被告制作企业宣传视频一部，制作费人民币五十万元，于视频交付验收后三十日内一次性支付。",
    "2025年6月20日，原告按约交付视频成片及全部素材，被告于同日出具验收确认单，确认视频符合合同约定。",
    "此后原告多次催告，被告以资金周转困难为由未支付任何款项。原告遂向人民法院提起诉讼，"
    "请求判令被告支付制作费五十万元及逾期付款利息，人民法院经当事人同意委派本平台进行诉前调解。",
    "调解过程中，双方当事人就欠款数额、付款期限、逾期责任等事项充分陈述了意见，"
    "调解员依法释明了相关法律规定及诉讼风险，双方在自愿、合法的基础上达成如下协议。",
]
INSTALMENTS = 18


def set_up_django(work: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["DOCUMENT_STORAGE_DIR"] = str(work / "documents")
    os.environ["PKI_DIR"] = str(work / "pki")
    for name in ("authority", "timestamping", "seal"):
        os.environ[f"PKI_{name.upper()}_FILE"] = str(work / "pki" / f"{name}.p12")
    os.environ["TIMESTAMP_URL"] = ""
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    assert str(settings.STORAGES["documents"]["OPTIONS"]["location"]).startswith(str(work))
    assert settings.PKI_AUTHORITY_FILE.startswith(str(work))
    call_command("migrate", verbosity=0, interactive=False)
    from documents.pki import generate_platform_pki, write_platform_pki

    write_platform_pki(generate_platform_pki())


@dataclass
class Agreement:
    agreement: object
    version: object
    context: dict
    html: str
    slots: list
    signers: list = field(default_factory=list)


def build_agreement() -> Agreement:
    """The case, its people and a locked 3-page agreement, through the services."""
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.template.loader import render_to_string
    from django.utils import translation

    from documents.agreement_rendering import agreement_document_context
    from documents.agreement_rules import required_slots
    from documents.services import agreements
    from mediation.models import Department, User
    from mediation.roles import Role
    from mediation.services import cases

    department = Department.objects.create(name="立案庭", code="filing")
    mediator = User.objects.create_user("mediator@bench.test", "bench", full_name="刘洋", department=department)
    mediator.groups.add(Group.objects.get(name=Role.MEDIATOR))
    case = cases.open_mediation_case(actor=mediator, cause_of_action="合同纠纷", claim_amount=500000)
    plaintiff = cases.add_party(
        case=case,
        actor=mediator,
        side="plaintiff",
        kind="organisation",
        name=PLAINTIFF,
        credit_code="91310000MA1FL0000X",
        legal_representative="陈明",
        address="上海市徐汇区漕溪北路88号",
    )
    defendant = cases.add_party(
        case=case,
        actor=mediator,
        side="defendant",
        kind="organisation",
        name=DEFENDANT,
        credit_code="91110108MA0000000Y",
        legal_representative="赵丽华",
        address="北京市海淀区中关村大街1号",
    )
    agent = User.objects.create_user("agent@bench.test", "bench", full_name="王志强")
    representative = User.objects.create_user("legal@bench.test", "bench", full_name="赵丽华")
    with transaction.atomic():
        cases.attach_participant(case=case, party=plaintiff, user=agent, role="agent", actor=mediator)
        cases.attach_participant(
            case=case, party=defendant, user=representative, role="legal_representative", actor=mediator
        )
    agreement = agreements.start_agreement(case=case, actor=mediator)
    terms = [
        {
            "kind": "payment",
            "obligor": defendant.pk,
            "obligee": plaintiff.pk,
            "amount": str(500000 // INSTALMENTS + (500000 % INSTALMENTS if n == 0 else 0)),
            "method": "银行转账至原告在中国工商银行上海漕河泾支行开立的账户",
            "due_date": f"{2027 + n // 12}-{n % 12 + 1:02d}-15",
        }
        for n in range(INSTALMENTS)
    ]
    terms.append(
        {
            "kind": "act",
            "obligor": plaintiff.pk,
            "obligee": defendant.pk,
            "act": "原告于收到第一期款项后五个工作日内，向被告交付宣传视频的全部工程文件及授权书。",
            "due_date": "2027-01-31",
        }
    )
    agreements.update_draft(
        agreement=agreement,
        actor=mediator,
        facts="\n".join(FACTS),
        terms=terms,
        costs="本案调解不收取费用。诉讼费用由原告自行向人民法院申请退还，保全费用由被告负担。",
        effectiveness="本协议自双方当事人及调解员签署、平台加盖时间戳之日起生效。"
        "任何一方不履行本协议的，另一方可依法申请司法确认后向人民法院申请强制执行。",
        judicial_confirmation=True,
    )
    version = agreements.lock_agreement(agreement=agreement, actor=mediator)
    slots = required_slots(case)
    context = agreement_document_context(agreement, version, slots)
    from django.conf import settings

    with translation.override(settings.DOCUMENT_LANGUAGE):
        html = render_to_string("documents/pdf/agreement.html", context)
    built = Agreement(agreement=agreement, version=version, context=context, html=html, slots=slots)
    built.signers = [
        (mediator, "mediator", True),
        (agent, f"party-{plaintiff.pk}", False),
        (representative, f"party-{defendant.pk}", False),
    ]
    return built


@dataclass
class Ruling:
    context: dict
    html: str
    slots: list
    judge: object
    seal_reason: str


def build_ruling(built: Agreement) -> Ruling:
    """The judge's ruling confirming the agreement, as `draft_ruling` lays it out: its
    content and context from the ruling's own builders, the court documents layer's
    part of the context (`prepare_court_document`) alongside. Nothing is stored: the
    application in the court's hands is an unsaved record over the agreement, taken
    as sealed now."""
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.template.loader import render_to_string
    from django.utils import timezone, translation

    from documents.models import CourtDocument, JudicialConfirmation
    from documents.rendering import document_context, qr_data_uri, verification_url
    from documents.services import confirmation_court, court_documents
    from documents.services.agreement_content import content_hash, new_verification_code
    from documents.signing import SEAL_FIELD
    from mediation.models import User
    from mediation.roles import Role

    judge = User.objects.create_user("judge@bench.test", "bench", full_name="张伟")
    judge.groups.add(Group.objects.get(name=Role.JUDGE))
    now = timezone.now()
    agreement = built.agreement
    agreement.sealed_at = now
    confirmation = JudicialConfirmation(
        case=agreement.case,
        agreement=agreement,
        status=JudicialConfirmation.Status.ACCEPTED,
        case_number=f"({now.year}){settings.COURT_CODE}民特1号",
        applied_at=now,
        accepted_at=now,
    )
    content = confirmation_court.ruling_content(
        confirmation, judge=judge, decision=JudicialConfirmation.Decision.CONFIRM, ground="", note=""
    )
    slots = [{"slot": confirmation_court.JUDGE_SLOT, "role": "judge", "user": judge.pk, "name": str(judge)}]
    code = new_verification_code()
    with translation.override(settings.DOCUMENT_LANGUAGE):
        labelled = [{**entry, "label": court_documents.slot_label(entry)} for entry in slots]
        seal_reason = str(court_documents.SEAL_REASONS[CourtDocument.Kind.RULING])
    # What prepare_court_document adds to the kind's context.
    context = document_context(
        slots=labelled,
        **confirmation_court._ruling_context(content),
        seal_field=SEAL_FIELD,
        content_hash_short=content_hash(content)[:16],
        verification_code=code,
        verification_url=verification_url(code),
        qr=qr_data_uri(verification_url(code)),
    )
    with translation.override(settings.DOCUMENT_LANGUAGE):
        html = render_to_string(confirmation_court.RULING_TEMPLATE, context)
    places = [*slots, {"slot": SEAL_FIELD}]
    return Ruling(context=context, html=html, slots=places, judge=judge, seal_reason=seal_reason)


def drawn_signature(seed: int) -> bytes:
    """A signature as the canvas posts it (made outside the timing)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    points = [(40 + 100 * i, 60 + ((i * 37 + seed * 53) % 140)) for i in range(6)]
    ImageDraw.Draw(image).line(points, fill=(10, 20, 120, 255), width=9)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


class Timer:
    def __init__(self):
        self.samples: dict[str, list[float]] = {}

    def measure(self, name: str, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        self.add(name, time.perf_counter() - start)
        return result

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds * 1000)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def sign_once(pdf: bytes, user, field_name: str, certify: bool, image: bytes, **sign_options) -> bytes:
    from django.utils import timezone

    from documents.pki import issue_signer_certificate
    from documents.signing import sign_field
    from documents.stamps import signature_stamp

    pair = issue_signer_certificate(name=str(user), user_id=user.pk, email=user.email)
    stamp = signature_stamp(image, name=str(user), signed_at=timezone.now())
    if "stamp_scale" in sign_options:
        scale = sign_options.pop("stamp_scale")
        stamp = stamp.resize((int(stamp.width * scale), int(stamp.height * scale))) if scale else None
    return sign_field(pdf, field=field_name, pair=pair, stamp=stamp, certify=certify, reason="签署", **sign_options)


def one_run(built: Agreement, timer: Timer, images: list[bytes]) -> bytes:
    import weasyprint

    from documents.rendering import render_pdf
    from documents.signing import add_signature_fields, document_timestamp
    from documents.verification import verify_pdf

    timer.measure("bare WeasyPrint", lambda: weasyprint.HTML(string=built.html).write_pdf())
    rendered = timer.measure("render", render_pdf, "documents/pdf/agreement.html", built.context)
    boxes = {box.slot: box for box in rendered.slots}
    pdf = timer.measure("fields", add_signature_fields, rendered.pdf, [boxes[s["slot"]] for s in built.slots])
    for number, (user, field_name, certify) in enumerate(built.signers, start=1):
        pdf = timer.measure(f"sign {number}", sign_once, pdf, user, field_name, certify, images[number - 1])
    sealed = timer.measure("seal", document_timestamp, pdf)
    report = timer.measure("verify", verify_pdf, sealed)
    assert report.all_valid and len(report.signatures) == 4, report
    samples = timer.samples
    pipeline = samples["render"][-1] + sum(samples[f"sign {n}"][-1] for n in (1, 2, 3)) + samples["seal"][-1]
    samples.setdefault("total", []).append(pipeline)
    samples.setdefault("total + fields", []).append(pipeline + samples["fields"][-1])
    samples.setdefault("ratio", []).append(pipeline / samples["bare WeasyPrint"][-1])
    return sealed


def one_ruling_run(ruling: Ruling, timer: Timer, image: bytes) -> bytes:
    import weasyprint

    from documents.rendering import render_pdf
    from documents.services.confirmation_court import JUDGE_SLOT, RULING_TEMPLATE
    from documents.signing import add_signature_fields, document_timestamp, seal_in_place
    from documents.verification import verify_pdf

    timer.measure("bare WeasyPrint", lambda: weasyprint.HTML(string=ruling.html).write_pdf())
    rendered = timer.measure("render", render_pdf, RULING_TEMPLATE, ruling.context)
    boxes = {box.slot: box for box in rendered.slots}
    pdf = timer.measure("fields", add_signature_fields, rendered.pdf, [boxes[s["slot"]] for s in ruling.slots])
    pdf = timer.measure("judge's signature", sign_once, pdf, ruling.judge, JUDGE_SLOT, False, image)
    pdf = timer.measure("court seal", seal_in_place, pdf, reason=ruling.seal_reason)
    sealed = timer.measure("document timestamp", document_timestamp, pdf)
    report = timer.measure("verify", verify_pdf, sealed)
    assert report.all_valid and len(report.signatures) == 3, report
    samples = timer.samples
    samples.setdefault("seal", []).append(samples["court seal"][-1] + samples["document timestamp"][-1])
    pipeline = samples["render"][-1] + samples["judge's signature"][-1] + samples["seal"][-1]
    samples.setdefault("total", []).append(pipeline)
    samples.setdefault("total + fields", []).append(pipeline + samples["fields"][-1])
    samples.setdefault("ratio", []).append(pipeline / samples["bare WeasyPrint"][-1])
    return sealed


def knobs(built: Agreement, images: list[bytes]) -> Timer:
    """What a few settings would change, measured the same way."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from documents.rendering import render_pdf
    from documents.signing import add_signature_fields

    timer = Timer()
    rendered = render_pdf("documents/pdf/agreement.html", built.context)
    boxes = {box.slot: box for box in rendered.slots}
    base = add_signature_fields(rendered.pdf, [boxes[s["slot"]] for s in built.slots])
    mediator, field_name, _certify = built.signers[0]
    for _ in range(KNOB_RUNS):
        timer.measure(
            "render, new FontConfiguration each time",
            lambda: weasyprint.HTML(string=built.html).render(font_config=FontConfiguration()).write_pdf(),
        )
        timer.measure(
            "render, shared FontConfiguration, bare",
            lambda: weasyprint.HTML(string=built.html).render(font_config=_shared_fonts()).write_pdf(),
        )
        timer.measure("sign 1 as is (600x240 stamp)", sign_once, base, mediator, field_name, True, images[0])
        timer.measure(
            "sign 1, stamp at half size (300x120)",
            sign_once,
            base,
            mediator,
            field_name,
            True,
            images[0],
            stamp_scale=0.5,
        )
        timer.measure("sign 1, no visible stamp", sign_once, base, mediator, field_name, True, images[0], stamp_scale=0)
        timer.measure("sign 1, no signature timestamp", _sign_without_timestamp, base, mediator, field_name, images[0])
        with _shared_timestamper():
            timer.measure(
                "sign 1, one timestamper kept (size probe cached)",
                sign_once,
                base,
                mediator,
                field_name,
                True,
                images[0],
            )
            with _tsa_key_loaded_once():
                timer.measure(
                    "sign 1, + TSA's RSA key loaded once", sign_once, base, mediator, field_name, True, images[0]
                )
    return timer


_fonts = None


def _shared_fonts():
    global _fonts
    if _fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        _fonts = FontConfiguration()
    return _fonts


def _sign_without_timestamp(pdf, user, field_name, image):
    from documents import signing

    real = signing._timestamper
    signing._timestamper = lambda: None
    try:
        return sign_once(pdf, user, field_name, True, image)
    finally:
        signing._timestamper = real


@contextlib.contextmanager
def _shared_timestamper():
    """One timestamper for every signature, so that pyHanko's size probe (a dummy
    token it caches per timestamper) is made once instead of once per signature."""
    from documents import signing

    real = signing._timestamper
    shared = real()
    signing._timestamper = lambda: shared
    try:
        yield
    finally:
        signing._timestamper = real


@contextlib.contextmanager
def _tsa_key_loaded_once():
    """pyHanko's in-process timestamper parses (and validates) its RSA key for every
    token; remember the parsed key instead."""
    from pyhanko.sign.timestamps import dummy_client

    real = dummy_client.serialization.load_der_private_key
    cached = functools.lru_cache(maxsize=4)(lambda data, password: real(data, password=password))
    dummy_client.serialization.load_der_private_key = lambda data, password=None, **kw: cached(bytes(data), password)
    try:
        yield
    finally:
        dummy_client.serialization.load_der_private_key = real


def profile_signature(built: Agreement, images: list[bytes]) -> str:
    from documents.rendering import render_pdf
    from documents.signing import add_signature_fields

    rendered = render_pdf("documents/pdf/agreement.html", built.context)
    boxes = {box.slot: box for box in rendered.slots}
    pdf = add_signature_fields(rendered.pdf, [boxes[s["slot"]] for s in built.slots])
    user, field_name, _certify = built.signers[0]
    pdf = sign_once(pdf, user, field_name, True, images[0])
    user, field_name, _certify = built.signers[1]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        sign_once(pdf, user, field_name, False, images[1])
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"documents/|pyhanko/sign/(signers|timestamps)/|stamp/|PIL/Image\.py", 20
    )
    stats.sort_stats("tottime").print_stats(12)
    return out.getvalue()


def summary(timer: Timer, names: list[str]) -> list[str]:
    lines = [f"{'step':<42}{'median ms':>11}{'p95 ms':>10}"]
    for name in names:
        values = timer.samples[name]
        unit = "" if name != "ratio" else " (x)"
        lines.append(f"{name + unit:<42}{statistics.median(values):>11.1f}{p95(values):>10.1f}")
    return lines


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as directory:
        work = Path(directory)
        print(f"Setting up Django on {work / 'bench.sqlite3'} (keys and files in {work}) ...", flush=True)
        set_up_django(work)
        from django.db import connection

        from documents.rendering import render_pdf

        built = build_agreement()
        pages = page_count(render_pdf("documents/pdf/agreement.html", built.context).pdf)
        images = [drawn_signature(n) for n in range(3)]
        print(
            f"Agreement: {pages} A4 pages, {len(built.version.content['terms'])} terms, "
            f"{len(built.html):,} bytes of HTML; {connection.vendor}; "
            f"{WARMUP} warm-up + {RUNS} measured runs; CPUs: {os.cpu_count()}, "
            f"load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        if pages != TARGET_PAGES:
            print(f"WARNING: the agreement has {pages} pages, not {TARGET_PAGES}.")
        for _ in range(WARMUP):
            one_run(built, Timer(), images)
        timer = Timer()
        sealed = b""
        for run in range(RUNS):
            sealed = one_run(built, timer, images)
            print(f"  run {run + 1}/{RUNS}: total {timer.samples['total'][-1]:.0f} ms", flush=True)
        print()
        names = ["render", "fields", "sign 1", "sign 2", "sign 3", "seal", "verify", "bare WeasyPrint"]
        for line in summary(timer, [*names, "total", "total + fields", "ratio"]):
            print(line)
        total = statistics.median(timer.samples["total"])
        ratio = statistics.median(timer.samples["ratio"])
        print()
        print(f"Sealed PDF: {len(sealed):,} bytes, {page_count(sealed)} pages.")
        print(
            f"Goal render + 3 signatures + seal <= {TOTAL_GOAL_MS} ms: median {total:.0f} ms -> "
            f"{'met' if total <= TOTAL_GOAL_MS else 'NOT met'}"
        )
        print(
            f"Goal <= {RATIO_GOAL:.0f}x bare WeasyPrint: median ratio {ratio:.2f}x -> "
            f"{'met' if ratio <= RATIO_GOAL else 'NOT met'}"
        )
        ruling = build_ruling(built)
        ruling_pages = page_count(render_pdf("documents/pdf/ruling.html", ruling.context).pdf)
        print(f"\nRuling: {ruling_pages} A4 page(s), {len(ruling.html):,} bytes of HTML", flush=True)
        for _ in range(WARMUP):
            one_ruling_run(ruling, Timer(), images[0])
        ruling_timer = Timer()
        for run in range(RUNS):
            sealed = one_ruling_run(ruling, ruling_timer, images[0])
            print(f"  run {run + 1}/{RUNS}: total {ruling_timer.samples['total'][-1]:.0f} ms", flush=True)
        print()
        names = ["render", "fields", "judge's signature", "court seal", "document timestamp", "seal"]
        for line in summary(ruling_timer, [*names, "verify", "bare WeasyPrint", "total", "total + fields", "ratio"]):
            print(line)
        total = statistics.median(ruling_timer.samples["total"])
        ratio = statistics.median(ruling_timer.samples["ratio"])
        print()
        print(f"Sealed ruling: {len(sealed):,} bytes, {page_count(sealed)} page(s).")
        print(
            f"Goal render + judge's signature + seal <= {TOTAL_GOAL_MS} ms: median {total:.0f} ms -> "
            f"{'met' if total <= TOTAL_GOAL_MS else 'NOT met'}"
        )
        print(
            f"Goal <= {RATIO_GOAL:.0f}x bare WeasyPrint: median ratio {ratio:.2f}x -> "
            f"{'met' if ratio <= RATIO_GOAL else 'NOT met'}"
        )
        if KNOB_RUNS:
            print(f"\nKnobs ({KNOB_RUNS} runs each):")
            knob_timer = knobs(built, images)
            for line in summary(knob_timer, list(knob_timer.samples)):
                print(line)
        if PROFILE:
            print("\ncProfile of 3 party signatures (certificate + stamp + sign_field):")
            print(profile_signature(built, images))
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
