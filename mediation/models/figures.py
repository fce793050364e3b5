from django.db import models


class WorkOrderTally(models.Model):
    """Running totals behind the supervision figures, one row per month (of receipt,
    court time), channel, category and department (0: not dispatched).

    Database triggers (migrations 0008 and 0011) keep them: every insert, update or delete of a
    work order takes its old contribution off and adds its new one, in the same
    transaction, whoever writes. The figures then read a few thousand rows instead of
    every order. `python manage.py rebuild_figures` recounts them from the orders.
    """

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=16)
    category = models.CharField(max_length=24)
    department_key = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    closed = models.BigIntegerField(default=0)
    closed_on_time = models.BigIntegerField(default=0)
    replied = models.BigIntegerField(default=0)
    visited = models.BigIntegerField(default=0)
    rated = models.BigIntegerField(default=0)
    satisfied = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "channel", "category", "department_key"], name="work_order_tally_cell"
            )
        ]

    def __str__(self):
        return f"{self.year}-{self.month:02d} {self.channel} {self.category} {self.department_key}: {self.received}"
