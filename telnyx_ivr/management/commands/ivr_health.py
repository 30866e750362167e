"""``manage.py ivr_health``: the health endpoint's report, in full, with exit status 0 or 1."""

import json

from django.core.management.base import BaseCommand, CommandError

from ...health import CHECKS, check_health


class Command(BaseCommand):
    help = (
        "Check the database, the broker, webhook events waiting to be processed and commands "
        "waiting to be sent; say what is wrong. Exits 0 when all is well, 1 when not."
    )
    # The report is the point: a system check error must not stop it from being given.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="append",
            choices=CHECKS,
            help="run only this check (repeatable; default: all)",
        )
        parser.add_argument(
            "--json", action="store_true", help="print the report as the endpoint's JSON"
        )

    def handle(self, **options):
        report = check_health(tuple(options["check"] or CHECKS))
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for line in report.lines():
                self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"Not healthy: {', '.join(report.failing)}.", returncode=1)
