"""The platform's signing keys: a certification authority that issues each signer a
short-lived certificate at the moment they sign, a timestamping authority, and the
platform's own seal.

Development and tests generate them (`python manage.py init_pki`); production loads
PKCS#12 files named in the settings. Private keys of signers are generated for one
signature and never stored: the signature belongs to the signer's authenticated act
alone.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

SIGNER_CERTIFICATE_LIFETIME = dt.timedelta(hours=1)
AUTHORITY_LIFETIME = dt.timedelta(days=3650)


class PKIUnavailable(Exception):
    """The configured key files are missing or cannot be opened."""


@dataclass(frozen=True)
class KeyPair:
    certificate: x509.Certificate
    key: object

    @property
    def asn1_certificate(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(
            self.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class PlatformPKI:
    authority: KeyPair
    timestamping: KeyPair
    seal: KeyPair


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The prefix of the pseudonym attribute that carries a signer's keyed ID-number hash.
ID_NUMBER_HASH_PREFIX = "id-number-hmac-sha256:"


def _name(common_name: str, *, serial: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.PKI_ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attributes)


def _certificate(
    *,
    subject: x509.Name,
    public_key,
    issuer: KeyPair | None,
    issuer_name: x509.Name,
    signing_key,
    lifetime: dt.timedelta,
    is_authority: bool = False,
    usages: list | None = None,
    critical_usages: bool = False,
) -> x509.Certificate:
    start = _now() - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + lifetime)
        .add_extension(x509.BasicConstraints(ca=is_authority, path_length=0 if is_authority else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()), critical=False
        )
    if is_authority:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=critical_usages)
    return builder.sign(signing_key, hashes.SHA256())


def generate_platform_pki() -> PlatformPKI:
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority_name = _name(settings.PKI_AUTHORITY_NAME)
    authority = KeyPair(
        _certificate(
            subject=authority_name,
            public_key=authority_key.public_key(),
            issuer=None,
            issuer_name=authority_name,
            signing_key=authority_key,
            lifetime=AUTHORITY_LIFETIME,
            is_authority=True,
        ),
        authority_key,
    )
    # RFC 3161 tokens are signed with RSA (pyHanko's in-process timestamper needs it).
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    timestamping = KeyPair(
        _certificate(
            subject=_name(settings.PKI_AUTHORITY_NAME + " TSA"),
            public_key=tsa_key.public_key(),
            issuer=authority,
            issuer_name=authority_name,
            signing_key=authority_key,
            lifetime=AUTHORITY_LIFETIME,
            usages=[ExtendedKeyUsageOID.TIME_STAMPING],
            critical_usages=True,
        ),
        tsa_key,
    )
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal = KeyPair(
        _certificate(
            subject=_name(settings.PKI_ORGANISATION + " seal"),
            public_key=seal_key.public_key(),
            issuer=authority,
            issuer_name=authority_name,
            signing_key=authority_key,
            lifetime=AUTHORITY_LIFETIME,
            usages=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
        ),
        seal_key,
    )
    return PlatformPKI(authority, timestamping, seal)


def _store(pair: KeyPair, path: Path, password: str, chain: list[x509.Certificate]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = pkcs12.serialize_key_and_certificates(
        name=b"mediation-platform",
        key=pair.key,
        cert=pair.certificate,
        cas=chain or None,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode("utf-8")),
    )
    path.write_bytes(data)
    path.chmod(0o600)


def write_platform_pki(pki: PlatformPKI) -> None:
    password = settings.PKI_PASSWORD
    _store(pki.authority, Path(settings.PKI_AUTHORITY_FILE), password, [])
    _store(pki.timestamping, Path(settings.PKI_TIMESTAMPING_FILE), password, [pki.authority.certificate])
    _store(pki.seal, Path(settings.PKI_SEAL_FILE), password, [pki.authority.certificate])
    load_platform_pki.cache_clear()


def _load(path: Path, password: str) -> KeyPair:
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(path.read_bytes(), password.encode("utf-8"))
    except (OSError, ValueError) as error:
        raise PKIUnavailable(f"Cannot open {path}: {error}") from error
    return KeyPair(certificate, key)


@functools.cache
def load_platform_pki() -> PlatformPKI:
    password = settings.PKI_PASSWORD
    return PlatformPKI(
        authority=_load(Path(settings.PKI_AUTHORITY_FILE), password),
        timestamping=_load(Path(settings.PKI_TIMESTAMPING_FILE), password),
        seal=_load(Path(settings.PKI_SEAL_FILE), password),
    )


def issue_signer_certificate(*, name: str, user_id: int, email: str, id_number_hash: str = "") -> KeyPair:
    """A fresh key and a certificate valid for an hour, for one signature by one
    authenticated person. For a person whose real name is verified, the subject
    carries the keyed hash of their resident ID number as a pseudonym
    (ID_NUMBER_HASH_PREFIX + hex): whoever holds the platform's hash key can match it
    to a number, nobody can read the number from it."""
    pki = load_platform_pki()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(name or email, serial=f"user-{user_id}")
    if id_number_hash:
        subject = x509.Name(
            [*subject, x509.NameAttribute(NameOID.PSEUDONYM, f"{ID_NUMBER_HASH_PREFIX}{id_number_hash}")]
        )
    certificate = _certificate(
        subject=subject,
        public_key=key.public_key(),
        issuer=pki.authority,
        issuer_name=pki.authority.certificate.subject,
        signing_key=pki.authority.key,
        lifetime=SIGNER_CERTIFICATE_LIFETIME,
        usages=[ExtendedKeyUsageOID.EMAIL_PROTECTION],
    )
    return KeyPair(certificate, key)
