"""manage.py verify_audit_log: recompute the audit log's hash chain; exit 1 if it is broken."""
from django.core.management.base import BaseCommand

from audit.verification import verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain (every hash, seq without gaps, prev links) and record the run."

    def add_arguments(self, parser):
        parser.add_argument("--no-record", action="store_true", help="Do not store this run as an AuditVerification.")

    def handle(self, *args, no_record=False, **options):
        result = verify(record=not no_record)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {result.checked} entries, head hash {result.head_hash or '-'}"))
            return
        for problem in result.problems:
            self.stderr.write(str(problem))
        self.stderr.write(self.style.ERROR(
            f"BROKEN: {len(result.problems)} problem(s) in {result.checked} entries; first broken seq {result.first_broken_seq}"))
        raise SystemExit(1)
