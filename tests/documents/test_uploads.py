"""Uploading case documents: the type is decided by the content, a bad file gets a
clear error and stores nothing, identical content is stored once, and every file is
served only through the view that checks who may see it."""

import io
import os
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from documents.models import Blob, Document
from documents.services.storage import documents_storage
from documents.services.uploads import DOCX, JPEG, PDF, PNG, upload_document
from tests.cases import make_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


# Sample files --------------------------------------------------------------------------


def pdf_file() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_file(kind: str, colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format=kind)
    return buffer.getvalue()


def zip_file(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


WORD_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>\xe8\xb5\xb7\xe8\xaf\x89\xe7\x8a\xb6</w:t></w:r></w:p></w:body></w:document>"
)


def docx_file(document_xml: bytes = WORD_XML) -> bytes:
    return zip_file({"[Content_Types].xml": b'<?xml version="1.0"?><Types/>', "word/document.xml": document_xml})


def zip_bomb_docx() -> bytes:
    """A DOCX whose text unpacks to 8 MB from a few kilobytes."""
    padding = b" " * (8 * 1024 * 1024)
    return docx_file(WORD_XML.replace(b"<w:body>", b"<w:body>" + padding))


# Fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def world(people):
    return make_case(people["mediator"], people["judge"])


@pytest.fixture
def other_world(people):
    return make_case(people["mediator"], None, label="B")


def upload_url(case) -> str:
    return reverse("document_upload", args=[case.pk])


def post_upload(client, case, name, data, *, visibility="case", kind="evidence", title="", json=True):
    form = {"file": SimpleUploadedFile(name, data), "kind": kind, "title": title, "visibility": visibility}
    return client.post(upload_url(case), form, headers=JSON if json else {})


def stored_files() -> list[Path]:
    root = Path(settings.STORAGES["documents"]["OPTIONS"]["location"])
    if not root.exists():
        return []
    return [path for path in root.rglob("*") if path.is_file()]


def assert_nothing_stored():
    assert Blob.objects.count() == 0
    assert Document.objects.count() == 0
    assert stored_files() == []


# Accepted types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("起诉状.pdf", pdf_file, PDF),
        ("receipt.png", lambda: image_file("PNG"), PNG),
        ("photo.JPG", lambda: image_file("JPEG"), JPEG),
        ("contract.docx", docx_file, DOCX),
        # A name without an extension is judged by the content alone (and gets its extension).
        ("scan", lambda: image_file("PNG", "blue"), PNG),
    ],
)
def test_pdf_png_jpeg_and_docx_are_accepted_by_their_content(client, world, name, make, content_type):
    data = make()
    client.force_login(world.plaintiff)

    response = post_upload(client, world.case, name, data, kind="complaint")

    assert response.status_code == 201, response.content
    body = response.json()
    document = Document.objects.get(pk=body["id"])
    assert body["sha256"] == document.blob_id
    assert (document.blob.content_type, document.blob.size, document.kind) == (content_type, len(data), "complaint")
    assert document.original_name == (name if "." in name else f"{name}.png")
    assert document.uploaded_by == world.plaintiff
    assert documents_storage().open(document.blob.storage_name).read() == data
    assert stored_files() == [Path(documents_storage().path(document.blob.storage_name))]


# Refused files -----------------------------------------------------------------------------

REFUSED = {
    "png_named_pdf": ("evidence.pdf", lambda: image_file("PNG"), "named as PDF but is really PNG"),
    "jpeg_named_docx": ("contract.docx", lambda: image_file("JPEG"), "named as Word (DOCX) but is really JPEG"),
    "exe_named_pdf": ("evidence.pdf", lambda: b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "Only PDF, PNG, JPEG"),
    "zip_named_pdf": ("evidence.pdf", lambda: zip_file({"a.txt": b"hello"}), "Only PDF, PNG, JPEG"),
    "text_named_pdf": ("evidence.pdf", lambda: b"This is plain text, not a PDF.\n", "Only PDF, PNG, JPEG"),
    "truncated_png": ("receipt.png", lambda: image_file("PNG")[:-20], "damaged or cannot be read"),
    "truncated_pdf": ("evidence.pdf", lambda: pdf_file()[:200], "damaged or cannot be read"),
    "docx_zip_bomb": ("contract.docx", zip_bomb_docx, "The Word file unpacks to more than"),
}


@pytest.mark.parametrize("case_name", list(REFUSED))
def test_a_disguised_or_unreadable_file_is_refused_with_a_clear_error_and_nothing_is_stored(client, world, case_name):
    name, make, message = REFUSED[case_name]
    client.force_login(world.plaintiff)

    response = post_upload(client, world.case, name, make())

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(message in error for error in errors["file"]), errors
    assert_nothing_stored()


@pytest.mark.parametrize("case_name", ["png_named_pdf", "exe_named_pdf", "truncated_pdf", "docx_zip_bomb"])
def test_the_service_refuses_the_same_files_when_called_directly(world, case_name):
    name, make, message = REFUSED[case_name]
    with pytest.raises(ValidationError) as refused:
        upload_document(case=world.case, actor=world.mediator, data=make(), filename=name, kind="evidence")
    assert message in " ".join(refused.value.message_dict["file"])
    assert_nothing_stored()


def test_an_empty_file_is_refused(client, world):
    client.force_login(world.plaintiff)

    response = post_upload(client, world.case, "empty.pdf", b"")

    assert response.status_code == 400
    assert "empty" in " ".join(response.json()["errors"]["file"])
    assert_nothing_stored()
    with pytest.raises(ValidationError, match="empty"):
        upload_document(case=world.case, actor=world.mediator, data=b"", filename="x.pdf", kind="evidence")
    assert_nothing_stored()


def test_a_file_over_the_size_limit_is_refused(client, world, settings):
    data = pdf_file()
    settings.DOCUMENT_MAX_BYTES = len(data) - 1
    client.force_login(world.mediator)

    response = post_upload(client, world.case, "big.pdf", data)

    assert response.status_code == 400
    assert "larger than" in " ".join(response.json()["errors"]["file"])
    assert_nothing_stored()
    with pytest.raises(ValidationError, match="larger than"):
        upload_document(case=world.case, actor=world.mediator, data=data, filename="big.pdf", kind="evidence")
    assert_nothing_stored()
    # At the limit it goes through.
    settings.DOCUMENT_MAX_BYTES = len(data)
    assert post_upload(client, world.case, "big.pdf", data).status_code == 201


def test_the_page_shows_a_refused_upload_as_a_message_without_json(client, world):
    client.force_login(world.plaintiff)

    response = post_upload(client, world.case, "evidence.pdf", image_file("PNG"), json=False)

    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "really PNG" in page.content.decode()
    assert_nothing_stored()


def test_the_upload_form_shows_a_progress_bar(client, world):
    client.force_login(world.plaintiff)
    page = client.get(reverse("case_documents", args=[world.case.pk])).content.decode()
    assert "data-upload-progress" in page
    assert 'enctype="multipart/form-data"' in page


def test_json_errors_name_the_field_for_a_missing_choice(client, world):
    client.force_login(world.plaintiff)
    response = client.post(
        upload_url(world.case), {"file": SimpleUploadedFile("a.pdf", pdf_file()), "kind": "nonsense"}, headers=JSON
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"kind", "visibility"}
    assert_nothing_stored()


# Content addressing --------------------------------------------------------------------


def test_the_same_content_twice_is_one_blob_and_the_file_is_never_rewritten(client, world):
    data = pdf_file()
    client.force_login(world.plaintiff)
    first = post_upload(client, world.case, "complaint.pdf", data, title="Complaint").json()
    [path] = stored_files()
    before = os.stat(path)

    client.force_login(world.defendant)
    second = post_upload(client, world.case, "copy.pdf", data, title="Our copy").json()

    assert first["sha256"] == second["sha256"]
    assert first["id"] != second["id"]
    assert Blob.objects.count() == 1
    assert Document.objects.count() == 2
    assert stored_files() == [path]
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    blob = Blob.objects.get()
    assert blob.storage_name == f"{blob.sha256[:2]}/{blob.sha256[2:4]}/{blob.sha256}"


def test_an_existing_file_is_not_overwritten_even_without_its_blob_row(world, monkeypatch):
    data = pdf_file()
    document = upload_document(case=world.case, actor=world.mediator, data=data, filename="a.pdf", kind="evidence")
    name = document.blob.storage_name
    saves = []
    storage = documents_storage()
    monkeypatch.setattr(type(storage), "save", lambda self, *args, **kwargs: saves.append(args))
    Document.objects.all().delete()
    Blob.objects.all().delete()

    again = upload_document(case=world.case, actor=world.mediator, data=data, filename="a.pdf", kind="evidence")

    assert saves == []
    assert again.blob.storage_name == name


# Visibility ------------------------------------------------------------------------------


def file_url(document) -> str:
    return reverse("document_file", args=[document.pk])


@pytest.fixture
def plaintiff_only(world):
    return upload_document(
        case=world.case,
        actor=world.plaintiff,
        data=pdf_file(),
        filename="plaintiff-notes.pdf",
        title="Plaintiff's private notes",
        kind="evidence",
        visibility=Document.Visibility.PLAINTIFF,
    )


@pytest.fixture
def case_wide(world):
    return upload_document(
        case=world.case,
        actor=world.plaintiff,
        data=image_file("PNG", "green"),
        filename="contract.png",
        title="The contract",
        kind="evidence",
    )


def test_a_case_wide_document_is_seen_by_everyone_in_the_case(client, world, case_wide):
    for user in (world.mediator, world.judge, world.plaintiff, world.defendant):
        client.force_login(user)
        response = client.get(file_url(case_wide))
        assert response.status_code == 200, user
        assert response["Content-Type"] == "image/png"
        assert response.content == documents_storage().open(case_wide.blob.storage_name).read()
        assert "The contract" in client.get(reverse("case_documents", args=[world.case.pk])).content.decode()


@pytest.mark.parametrize(
    ("who", "sees"), [("mediator", True), ("plaintiff", True), ("defendant", False), ("judge", False)]
)
def test_a_plaintiff_only_document_is_seen_by_the_plaintiff_side_and_the_mediator_only(
    client, world, plaintiff_only, who, sees
):
    client.force_login(getattr(world, who))

    response = client.get(file_url(plaintiff_only))
    listing = client.get(reverse("case_documents", args=[world.case.pk])).content.decode()

    assert response.status_code == (200 if sees else 404)
    assert ("Plaintiff&#x27;s private notes" in listing) is sees
    assert (plaintiff_only.blob_id[:12] in listing) is sees


def test_a_party_cannot_upload_for_the_other_side_only(client, world):
    client.force_login(world.plaintiff)

    response = post_upload(client, world.case, "x.pdf", pdf_file(), visibility="defendant")

    assert response.status_code == 400
    assert "your own side" in " ".join(response.json()["errors"]["visibility"])
    assert_nothing_stored()


def test_the_mediator_may_share_with_one_side(client, world):
    client.force_login(world.mediator)
    response = post_upload(client, world.case, "x.pdf", pdf_file(), visibility="defendant")
    assert response.status_code == 201
    assert Document.objects.get().visibility == "defendant"


@pytest.mark.parametrize("who", ["stranger", "other_plaintiff", "judge_of_another_case", "anonymous"])
def test_strangers_and_other_cases_people_get_404_on_the_file(client, world, other_world, case_wide, who, people):
    if who == "stranger":
        client.force_login(UserFactory(full_name="Stranger"))
    elif who == "other_plaintiff":
        client.force_login(other_world.plaintiff)
    elif who == "judge_of_another_case":
        client.force_login(people["other_judge"])
    response = client.get(file_url(case_wide))
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 404


def test_outsiders_cannot_upload_into_a_case(client, world, other_world):
    client.force_login(other_world.plaintiff)
    response = post_upload(client, world.case, "x.pdf", pdf_file())
    assert response.status_code == 404
    assert_nothing_stored()


def test_files_are_served_only_through_the_view_never_by_a_media_url(client, world, case_wide):
    client.force_login(world.plaintiff)
    name = case_wide.blob.storage_name
    for url in (f"/media/{name}", f"/{name}", f"/documents/{name}", f"/var/documents/{name}"):
        assert client.get(url).status_code == 404, url
    page = client.get(reverse("case_documents", args=[world.case.pk])).content.decode()
    assert name not in page
    assert file_url(case_wide) in page
    response = client.get(file_url(case_wide))
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


# Names, downloads and hostile files (the hostile tester's findings) ------------------------


def disposition(response) -> tuple[str, str]:
    """What a browser reads from Content-Disposition: the type and the file name."""
    import email.message
    import email.utils

    header = response["Content-Disposition"]
    # An encoded header (=?utf-8?...) or any non-ASCII byte loses both to a browser.
    assert header.isascii() and "=?" not in header, header
    message = email.message.Message()
    message["Content-Disposition"] = header
    # A browser takes filename* (RFC 6266, 4.3) over the ASCII filename beside it;
    # Python's parser would return the plain one first.
    encoded = [value for key, value in message.get_params(header="content-disposition") if isinstance(value, tuple)]
    filename = email.utils.collapse_rfc2231_value(encoded[0]) if encoded else message.get_filename()
    return message.get_content_disposition(), filename


@pytest.mark.parametrize(
    "name",
    ["起诉状（修改稿）.pdf", 'evil"; filename=evil.html; x=".pdf', "a\\b.pdf", "报价单 v2.pdf"],
)
def test_a_download_keeps_its_type_and_its_name_whatever_the_name(client, world, name):
    document = upload_document(case=world.case, actor=world.plaintiff, data=pdf_file(), filename=name, kind="evidence")
    client.force_login(world.defendant)

    response = client.get(file_url(document))

    assert response.status_code == 200
    kind, filename = disposition(response)
    assert kind == "attachment"
    assert filename == document.original_name
    assert filename.endswith(".pdf")


def test_a_pdf_with_javascript_is_served_as_a_download_never_inline(client, world):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    from pypdf.actions import JavaScript

    writer.add_open_action(JavaScript("app.alert('hello from an uploaded PDF');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    client.force_login(world.defendant)
    document = Document.objects.get(pk=post_upload(client, world.case, "evidence.pdf", buffer.getvalue()).json()["id"])

    for user in (world.mediator, world.plaintiff):
        client.force_login(user)
        response = client.get(file_url(document))
        assert disposition(response) == ("attachment", "evidence.pdf")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_images_are_downloads_too(client, world, case_wide):
    client.force_login(world.defendant)
    assert disposition(client.get(file_url(case_wide))) == ("attachment", "contract.png")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("report.pdf.exe", pdf_file),
        ("x.pdf\0.html", pdf_file),
        ("x.pdf.html", pdf_file),
        ("photo.svg", lambda: image_file("PNG")),
        ("scan.2024", lambda: image_file("JPEG")),
    ],
)
def test_a_name_outside_the_allowed_extensions_is_refused(client, world, name, make):
    client.force_login(world.plaintiff)

    response = post_upload(client, world.case, name, make())

    assert response.status_code == 400
    assert "Only files named .pdf, .png, .jpg, .jpeg or .docx" in " ".join(response.json()["errors"]["file"])
    assert_nothing_stored()
    with pytest.raises(ValidationError, match="Only files named"):
        upload_document(case=world.case, actor=world.mediator, data=make(), filename=name, kind="evidence")
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("scan", "scan.png"),
        ("C:\\Users\\wang\\receipt.png", "receipt.png"),
        ("../../etc/receipt.png", "receipt.png"),
        ("gnp\u202e.png", "gnp.png"),
        ("re\nceipt.png", "receipt.png"),
    ],
)
def test_the_stored_name_is_cleaned_and_carries_the_real_type(world, sent, kept):
    document = upload_document(
        case=world.case, actor=world.plaintiff, data=image_file("PNG"), filename=sent, kind="evidence"
    )
    assert document.original_name == kept


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with one tiny compressed row
    set: what a decompression bomb looks like before anything is decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # Rows of zero bytes compress to almost nothing: 144 MB of pixels in ~140 KB.
    compressor = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_an_image_with_too_many_pixels_is_refused_before_it_is_decoded(client, world):
    import tracemalloc

    bomb = png_header_only(12_000, 12_000)  # 144 megapixels
    assert len(bomb) < settings.DOCUMENT_MAX_BYTES
    client.force_login(world.plaintiff)

    tracemalloc.start()
    try:
        response = post_upload(client, world.case, "receipt.png", bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 400
    assert "at most 50 megapixels" in " ".join(response.json()["errors"]["file"])
    assert peak < 30 * 1024 * 1024
    assert_nothing_stored()


def test_pillow_s_decompression_bomb_limit_is_set_explicitly():
    from PIL import Image

    assert Image.MAX_IMAGE_PIXELS == settings.DOCUMENT_MAX_IMAGE_PIXELS == 50_000_000


def streamed_docx(elements: int, *, noise_every: int) -> bytes:
    """A DOCX whose document.xml holds `elements` empty paragraphs, with a random
    run every `noise_every` elements so that it compresses about as well as real
    Word text (under the ratio check). Written in chunks: the test never holds it."""
    import random

    rng = random.Random(7)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as stream:
            stream.write(WORD_XML.split(b"<w:p>")[0])
            written = 0
            while written < elements:
                batch = min(noise_every * 1000, elements - written)
                parts = []
                for index in range(batch):
                    if index % noise_every == 0:
                        parts.append(b"<w:t>%s</w:t>" % rng.randbytes(24).hex().encode())
                    else:
                        parts.append(b"<w:p/>")
                stream.write(b"".join(parts))
                written += batch
            stream.write(b"</w:body></w:document>")
    return buffer.getvalue()


def test_a_word_file_with_millions_of_elements_is_parsed_in_flat_memory(world):
    import tracemalloc

    from documents.services.uploads import detect_type

    data = streamed_docx(1_200_000, noise_every=8)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = archive.getinfo("word/document.xml").file_size
    assert unpacked < len(data) * 100  # passes the ratio check
    assert unpacked < settings.DOCUMENT_MAX_UNPACKED_BYTES

    tracemalloc.start()
    try:
        assert detect_type(data, "contract.docx") == DOCX
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # A tree of 1.2 million elements is hundreds of megabytes; parsing as a stream
    # needs a few chunks.
    assert peak < 16 * 1024 * 1024, peak


def test_a_word_file_that_unpacks_past_the_absolute_limit_is_refused_with_a_clear_error(client, world, settings):
    import tracemalloc

    data = streamed_docx(1_200_000, noise_every=8)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = archive.getinfo("word/document.xml").file_size
    # Under the ratio check: only the absolute limit catches it.
    assert unpacked < len(data) * 100
    settings.DOCUMENT_MAX_UNPACKED_BYTES = unpacked // 2
    client.force_login(world.defendant)

    tracemalloc.start()
    try:
        response = post_upload(client, world.case, "contract.docx", data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 400
    assert "The Word file unpacks to more than" in " ".join(response.json()["errors"]["file"])
    assert peak < len(data) * 3 + 8 * 1024 * 1024
    assert_nothing_stored()


def test_a_word_file_with_a_doctype_is_refused(world):
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    with pytest.raises(ValidationError, match="damaged or cannot be read"):
        upload_document(
            case=world.case,
            actor=world.plaintiff,
            data=docx_file(billion_laughs),
            filename="c.docx",
            kind="evidence",
        )
    assert_nothing_stored()
