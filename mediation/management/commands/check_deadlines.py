from django.core.management.base import BaseCommand

from mediation.services.case_supervision import check_case_deadlines
from mediation.services.delegation import return_overdue_delegations
from mediation.services.supervision import check_deadlines


class Command(BaseCommand):
    help = (
        "Warn at 75 % of each work-order clock and of each mediation case's period, and flag overdue "
        "orders and cases; return to the court the delegated cases not accepted in time. Idempotent: safe "
        "to run every minute from cron; a second run sends nothing twice."
    )

    def handle(self, *args, **options):
        report = check_deadlines()
        self.stdout.write(f"warnings sent: {report.warnings}; overdue flagged: {report.overdue}")
        cases = check_case_deadlines()
        self.stdout.write(f"case warnings sent: {cases.warnings}; cases flagged overdue: {cases.overdue}")
        returned = return_overdue_delegations()
        self.stdout.write(f"delegations returned, not accepted in time: {returned}")
