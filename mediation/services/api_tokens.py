import hashlib
import secrets

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from mediation import audit
from mediation.models import ApiToken, User
from mediation.roles import API_CLIENT_GROUP

TOKEN_BYTES = 32


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def create_api_token(*, name: str) -> tuple[ApiToken, str]:
    """Create an integration system's token and its service account. The raw token is
    returned once and never stored."""
    raw = "mdt_" + secrets.token_urlsafe(TOKEN_BYTES)
    user = User.objects.create_user(email=f"{name}@api.invalid", full_name=name)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.add(Group.objects.get_or_create(name=API_CLIENT_GROUP)[0])
    token = ApiToken.objects.create(name=name, user=user, key_hash=hash_token(raw), key_prefix=raw[:10])
    audit.record(actor=None, action="api_token.create", target=token, data={"label": name})
    return token, raw


@transaction.atomic
def revoke_api_token(*, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=None, action="api_token.revoke", target=token, data={"label": token.name})
    return token


def authenticate_token(raw: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # Record use at most once a minute: a busy hotline must not write on every call.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
