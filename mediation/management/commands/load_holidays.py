from django.core.management.base import BaseCommand

from mediation.models import CalendarDay, CalendarYear
from mediation.services.calendar import load_official_calendar, official_years


class Command(BaseCommand):
    help = "Load the official holiday schedule from the chinesecalendar package (after upgrading it)."

    def handle(self, *args, **options):
        added = load_official_calendar(CalendarDay, CalendarYear)
        years = sorted(official_years())
        self.stdout.write(f"Added {added} days; official schedule loaded for {years[0]}–{years[-1]}.")
