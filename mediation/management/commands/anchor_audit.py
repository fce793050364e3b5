from django.core.management.base import BaseCommand, CommandError

from mediation.audit import verify_chain
from mediation.audit_anchors import anchor_directory, write_anchor
from mediation.management.commands.verify_audit import describe_failure


class Command(BaseCommand):
    help = (
        "Verify the audit trail, then write a signed checkpoint of its head (entries, newest hash, time) "
        "under AUDIT_ANCHOR_DIR, outside the database. Idempotent: writes nothing while the head has not "
        "moved since the newest anchor; run it from cron."
    )

    def handle(self, *args, **options):
        directory = anchor_directory()
        # Verify first: anchoring a rewritten chain would vouch for the rewrite.
        report = verify_chain(anchor_dir=directory)
        if not report.ok:
            raise CommandError(f"Not anchored. {describe_failure(report)}")
        if report.checked == 0:
            self.stdout.write("The audit trail is empty: nothing to anchor.")
            return
        newest = report.anchors[-1] if report.anchors else None
        if newest is not None and (newest.seq, newest.entry_hash) == (report.checked, report.last_hash):
            self.stdout.write(f"Unchanged since {newest.name}: {report.checked} entries.")
            return
        path = write_anchor(
            seq=report.checked, entry_id=report.last_entry_id, entry_hash=report.last_hash, directory=directory
        )
        self.stdout.write(f"Anchored {report.checked} entries ending at #{report.last_entry_id}: {path}")
