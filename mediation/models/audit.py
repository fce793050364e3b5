from django.db import models


class AuditEntry(models.Model):
    """One entry of the append-only, hash-chained audit trail.

    The actor is kept as an id and a label rather than a foreign key: deleting a user
    must not rewrite history (SET_NULL would edit the row and break its hash).

    `key_id` names the key (held outside the database) whose HMAC is `entry_hash`;
    empty on the entries written before the chain was keyed (migration 0009), whose
    hash is a plain SHA-256.
    """

    created_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.target_type}:{self.target_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends to the chain and remembers its end, so
    that deleting the newest entries is detected too."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_entry_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)
    entry_count = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"head #{self.last_entry_id} ({self.entry_count} entries)"
