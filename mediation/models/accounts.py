from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from mediation.models.keyed import KeyedIdNumbers
from mediation.personal_data import EncryptedCharField
from mediation.phones import mask as mask_phone


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class IdentityLevel(models.TextChoices):
    """How much of a person's identity the platform has verified (实名), in order."""

    ACCOUNT = "account", _("Account only")
    MOBILE = "mobile", _("Mobile number verified")
    REAL_NAME = "real_name", _("Real name verified")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        # Staff always have an address (they sign in with it, password and TOTP); a
        # party may have only a mobile number.
        staff = extra_fields.get("is_staff") or extra_fields.get("is_superuser")
        if not email and (staff or not extra_fields.get("phone")):
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower() if email else None, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(KeyedIdNumbers, AbstractBaseUser, PermissionsMixin):
    """Everyone who signs in: court staff (roles are groups) and parties (rights come
    from their participation in a case). Chinese names do not split into first and
    last name, so there is one `full_name`."""

    # Optional for parties, who may have only a verified mobile number; required for
    # staff (the admin forms and createsuperuser ask for it). No address is NULL,
    # never "", so that any number of accounts can be without one.
    email = models.EmailField(_("email address"), unique=True, null=True, blank=True)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    # A mobile number is one person's: it signs them in by SMS code once verified
    # (phone_verified_at), and the platform texts them there.
    phone = PhoneNumberField(_("mobile phone"), max_length=32, null=True, blank=True, unique=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    # Identity (实名): account only → mobile verified (phone_verified_at, by an SMS
    # code) → real name verified (full_name and the resident ID number checked, by whom
    # or by which verifier, and when: mediation.identity). The ID number is personal
    # data: encrypted, matched by its keyed hash.
    id_number = EncryptedCharField(_("resident ID number"), blank=True, default="")
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    ID_NUMBER_HASHES = {"id_number": "id_number_hash"}
    real_name_verified_at = models.DateTimeField(_("real name verified at"), null=True, blank=True)
    real_name_verified_by = models.ForeignKey(
        "self",
        verbose_name=_("real name verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    real_name_verifier = models.CharField(_("real name verified through"), max_length=40, blank=True, default="")
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        blank=True,
        help_text=_("Empty means the browser's language."),
    )
    # Large type (大字模式): bigger text and buttons and plain wording on every page,
    # switched on by the person (mediation.views.accounts) and kept across pages.
    large_type = models.BooleanField(_("large type"), default=False)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Whether the user can log into the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name()

    def save(self, *args, **kwargs):
        if not (self.email or "").strip():
            self.email = None
        super().save(*args, **kwargs)

    @property
    def identity_level(self) -> str:
        """IdentityLevel: what has been verified of who this account is."""
        if self.real_name_verified_at:
            return IdentityLevel.REAL_NAME
        if self.phone_verified_at and self.phone:
            return IdentityLevel.MOBILE
        return IdentityLevel.ACCOUNT

    def get_full_name(self):
        """The name to show: the person's name, else their address, else their
        masked mobile number (an account may have only that)."""
        if self.full_name:
            return self.full_name
        if self.email:
            return self.email
        if self.phone:
            return mask_phone(self.phone)
        return _("Account %(id)s") % {"id": self.pk or "?"}

    def get_short_name(self):
        return self.get_full_name()


class IdentityCheck(models.Model):
    """One real-name verification of a person (实名): who or what verified them
    (`verifier`, the IDENTITY_VERIFIER adapter's name), when, the keyed hash of the ID
    number checked (never the number itself) and the verifier's reference. An
    in-person check by court staff names the staff member and keeps a scan or photo of
    the ID document as evidence, stored once by its SHA-256 in the documents storage,
    which has no public URL. The audit trail refers to this row by its id."""

    user = models.ForeignKey(User, verbose_name=_("person"), on_delete=models.PROTECT, related_name="identity_checks")
    verifier = models.CharField(_("verified through"), max_length=40)
    verified_by = models.ForeignKey(
        User, verbose_name=_("verified by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified at"))
    id_number_hash = models.CharField(max_length=64, editable=False)
    reference = models.CharField(_("reference"), max_length=100, blank=True, default="")
    # The case from whose page the check was recorded, if any: why this staff member
    # could record it.
    case = models.ForeignKey(
        "mediation.MediationCase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence_sha256 = models.CharField(max_length=64, blank=True, default="")
    evidence_content_type = models.CharField(max_length=100, blank=True, default="")
    evidence_size = models.PositiveIntegerField(null=True, blank=True)
    evidence_storage_name = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-verified_at", "-id"]
        verbose_name = _("identity check")
        verbose_name_plural = _("identity checks")

    def __str__(self):
        return f"{self.verifier} #{self.pk}"
