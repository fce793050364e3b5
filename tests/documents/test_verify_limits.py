"""`/verify/` is public and CSRF-exempt: what a stranger's file may cost is bounded
(size, signature fields, revisions, CPU time), each signature object is validated
once however many fields point at it, each client address is throttled, and a file
past a bound is answered "too complex", never "valid" or "original"."""

import io
import random
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfWriter

from documents import verification
from documents.signing import seal
from documents.verification import verify_pdf

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def plain_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def signed() -> bytes:
    """A PDF with the platform's seal: one genuine, trusted signature."""
    return seal(plain_pdf(), reason="test")


def many_fields_one_signature(signed: bytes, fields: int) -> bytes:
    """`fields` more signature fields in a later revision, every one pointing at the
    signature dictionary the file already has (the hostile tester's file)."""
    reader = PdfFileReader(io.BytesIO(signed), strict=False)
    signature = reader.root["/AcroForm"]["/Fields"][0].get_object().raw_get("/V")
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    form = writer.root["/AcroForm"]
    all_fields = generic.ArrayObject(list(form["/Fields"]))
    for index in range(fields):
        field = generic.DictionaryObject(
            {
                generic.NameObject("/FT"): generic.NameObject("/Sig"),
                generic.NameObject("/T"): generic.TextStringObject(f"copy-{index}"),
                generic.NameObject("/V"): signature,
            }
        )
        all_fields.append(writer.add_object(field))
    form[generic.NameObject("/Fields")] = all_fields
    writer.update_container(form)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def post_verify(client, data: bytes, *, address: str = "203.0.113.7", json: bool = True):
    return client.post(
        reverse("verify"),
        {"file": SimpleUploadedFile("agreement.pdf", data, "application/pdf")},
        headers=JSON if json else {},
        REMOTE_ADDR=address,
    )


def cpu_seconds(action):
    start = time.thread_time()
    result = action()
    return result, time.thread_time() - start


def test_a_file_with_hundreds_of_fields_sharing_one_signature_is_too_complex_at_bounded_cost(client, signed):
    hostile = many_fields_one_signature(signed, 200)

    response, spent = cpu_seconds(lambda: post_verify(client, hostile))

    assert response.status_code == 400
    body = response.json()
    assert "too complex to verify here" in body["error"]
    assert "valid" not in body and "matches_sealed_original" not in body
    # Validating every field cost 32 s for the tester's 464 KB file; the cap stops
    # at the field count, before any signature is validated.
    assert spent < 2.0, spent
    page = post_verify(client, hostile, json=False)
    assert page.status_code == 400
    text = page.content.decode()
    assert "too complex to verify here" in text
    assert 'data-result="original"' not in text and 'data-signatures="valid"' not in text


def test_each_signature_object_is_validated_once_however_many_fields_point_at_it(signed, monkeypatch):
    validated = []
    check = verification._check_signature
    monkeypatch.setattr(
        verification, "_check_signature", lambda embedded, roots: validated.append(embedded) or check(embedded, roots)
    )
    hostile = many_fields_one_signature(signed, 40)

    report = verify_pdf(hostile)

    assert len(validated) == 1
    assert len(report.signatures) == 1
    assert report.shared_signature_fields == 40
    # A field borrowing another's signature is never part of a valid file.
    assert not report.all_valid
    assert not report.matches_sealed_original
    # The genuine file is still all valid.
    assert verify_pdf(signed).all_valid


def test_a_check_past_its_time_budget_stops_and_says_too_complex(client, signed, settings):
    settings.VERIFY_TIME_BUDGET_SECONDS = 0

    report = verify_pdf(signed)
    response = post_verify(client, signed)

    assert report.too_complex and not report.all_valid and report.signatures == []
    assert response.status_code == 400
    assert "too complex to verify here" in response.json()["error"]


def test_a_file_with_more_revisions_than_a_sealed_document_is_too_complex(signed, settings):
    settings.VERIFY_MAX_REVISIONS = 1
    report = verify_pdf(many_fields_one_signature(signed, 1))
    assert report.too_complex and not report.all_valid


def test_a_file_larger_than_a_sealed_agreement_can_be_is_refused_unread(client, settings, monkeypatch):
    assert settings.VERIFY_MAX_BYTES <= 10 * 1024 * 1024
    monkeypatch.setattr(
        "documents.views.verification.verify_pdf", lambda data: pytest.fail("a file over the cap was read")
    )
    data = b"%PDF-1.7\n" + b"0" * settings.VERIFY_MAX_BYTES

    response = post_verify(client, data)

    assert response.status_code == 400
    assert "too large to be one of the platform's documents" in response.json()["error"]


def test_each_client_address_is_throttled_with_a_clear_429(client, settings):
    settings.VERIFY_THROTTLE_REQUESTS = 3
    settings.VERIFY_THROTTLE_WINDOW_SECONDS = 3600
    # A fresh address: the cache (Redis in CI) may keep counts from earlier runs.
    address = f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"

    answers = [post_verify(client, b"not a pdf", address=address).status_code for _ in range(3)]
    refused = post_verify(client, b"not a pdf", address=address)
    page = post_verify(client, b"not a pdf", address=address, json=False)

    assert answers == [400, 400, 400]
    assert refused.status_code == 429
    assert "Too many files were checked from your address" in refused.json()["error"]
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert page.status_code == 429
    assert "Too many files were checked from your address" in page.content.decode()
    # Another client is not held up by this one; looking at the page is never counted.
    other = f"192.0.2.{random.randrange(1, 255)}"
    assert post_verify(client, b"not a pdf", address=other).status_code == 400
    assert client.get(reverse("verify"), REMOTE_ADDR=address).status_code == 200


def test_ipv6_clients_are_counted_per_64_block(client, settings):
    settings.VERIFY_THROTTLE_REQUESTS = 2
    settings.VERIFY_THROTTLE_WINDOW_SECONDS = 3600
    block = f"2001:db8:{random.randrange(65536):x}:{random.randrange(65536):x}"

    codes = [post_verify(client, b"x", address=f"{block}::{index + 1:x}").status_code for index in range(3)]

    assert codes == [400, 400, 429]
