"""Content-addressed file storage: a file is named by its SHA-256 and written once."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction

from documents.models import Blob


def documents_storage():
    return storages["documents"]


def storage_name(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def store_blob(content: bytes, content_type: str) -> Blob:
    """Store bytes once; the same content stored again is the same blob. An existing
    file is never overwritten."""
    sha256 = hashlib.sha256(content).hexdigest()
    existing = Blob.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing
    name = storage_name(sha256)
    storage = documents_storage()
    if not storage.exists(name):
        saved = storage.save(name, ContentFile(content))
        if saved != name:
            # The storage chose another name: never expected for a content address.
            storage.delete(saved)
            raise RuntimeError(f"Storage refused the content address {name}")
    try:
        with transaction.atomic():
            return Blob.objects.create(sha256=sha256, size=len(content), content_type=content_type, storage_name=name)
    except IntegrityError:
        return Blob.objects.get(sha256=sha256)


def read_blob(blob: Blob) -> bytes:
    with documents_storage().open(blob.storage_name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != blob.sha256:
        raise RuntimeError(f"Stored file {blob.storage_name} does not match its SHA-256")
    return data


def store_blob_file(path, content_type: str) -> Blob:
    """Store a file on disk once, read in chunks (a recording may be large); the same
    content stored again is the same blob. An existing file is never overwritten."""
    from django.core.files import File

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    sha256 = digest.hexdigest()
    existing = Blob.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing
    name = storage_name(sha256)
    storage = documents_storage()
    if not storage.exists(name):
        with open(path, "rb") as handle:
            saved = storage.save(name, File(handle))
        if saved != name:
            storage.delete(saved)
            raise RuntimeError(f"Storage refused the content address {name}")
    try:
        with transaction.atomic():
            return Blob.objects.create(sha256=sha256, size=size, content_type=content_type, storage_name=name)
    except IntegrityError:
        return Blob.objects.get(sha256=sha256)
