from django.core.management.base import BaseCommand, CommandError

from mediation.audit import ChainReport, verify_chain
from mediation.audit_anchors import anchor_directory


def describe_failure(report: ChainReport) -> str:
    where = f" at entry #{report.broken_entry_id}" if report.broken_entry_id is not None else ""
    return f"Audit trail broken{where}: {report.reason} ({report.checked} entries verified before it)."


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's keyed hash chain and check it against the chain head and every "
        "anchor written by anchor_audit; exits non-zero at the first problem."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchors",
            metavar="DIRECTORY",
            help="the anchors to check against (default: AUDIT_ANCHOR_DIR), e.g. a copy kept off this host",
        )

    def handle(self, *args, **options):
        directory = options["anchors"] or anchor_directory()
        report = verify_chain(anchor_dir=directory)
        if not report.ok:
            raise CommandError(describe_failure(report))
        self.stdout.write(f"Audit trail intact: {report.checked} entries.")
        if report.anchors:
            newest = report.anchors[-1]
            self.stdout.write(
                f"Checked against {len(report.anchors)} anchors in {directory}; the newest records "
                f"{newest.seq} entries at {newest.anchored_at.isoformat()}."
            )
        elif report.checked:
            self.stderr.write(
                f"No anchor in {directory}: entries deleted from the end of the chain cannot be detected "
                "until anchor_audit runs."
            )
