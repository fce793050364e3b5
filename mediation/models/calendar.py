from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """A day that differs from the Monday-to-Friday rule: a public holiday on a
    weekday, a swapped working weekend (调休), or a court's own closure. Days without a
    row follow the rule."""

    class Source(models.TextChoices):
        STATE_COUNCIL = "state_council", _("State Council holiday schedule")
        COURT = "court", _("Court decision")

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.COURT)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.date} {self.name}"


class CalendarYear(models.Model):
    """A year whose official holiday schedule is loaded. Outside these years the
    calendar can only apply Monday to Friday."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")

    def __str__(self):
        return str(self.year)
