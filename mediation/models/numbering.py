from django.db import models


class NumberSequence(models.Model):
    """A named counter for human-readable numbers (`GD-2026-000123`). Numbers are
    unique; gaps (a rolled-back intake) are allowed."""

    key = models.CharField(max_length=64, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.key}={self.last_value}"
