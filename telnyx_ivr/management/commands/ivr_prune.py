"""``manage.py ivr_prune``: prune the call log older than RETENTION_DAYS (or ``--days``)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...calls.retention import prune, retention_days
from ...conf import SETTINGS_NAME


class Command(BaseCommand):
    help = (
        "Empty the bodies of webhook events and commands older than the retention period "
        f'({SETTINGS_NAME}["RETENTION_DAYS"], or --days), keeping their type, times and '
        "status; with --calls, delete whole old calls instead. Rolls up first and touches "
        "only rolled-up rows, so the dashboards' past figures stay the same."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            help=f'keep this many days (default: {SETTINGS_NAME}["RETENTION_DAYS"])',
        )
        parser.add_argument(
            "--calls",
            action="store_true",
            help="also delete whole old calls: their visits, commands and webhook events",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="change nothing; say what would go"
        )

    def handle(self, **options):
        days = options["days"]
        if days is None:
            try:
                days = retention_days()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from None
            if days is None:
                raise CommandError(
                    f'{SETTINGS_NAME}["RETENTION_DAYS"] is not set, so everything is kept: '
                    "give --days N to prune what is older than N days."
                )
        elif days < 1:
            raise CommandError(f"--days must be 1 or more, not {days}")
        result = prune(days, calls=options["calls"], dry_run=options["dry_run"])
        before = timezone.localtime(result.cutoff).strftime("%Y-%m-%d %H:%M %Z")
        dry = result.dry_run
        say = self.stdout.write
        if dry:
            say("Dry run: nothing is changed.")
        say(f"Older than {days} day(s), from before {before}:")
        if result.rolled_up:
            say(f"  rolled up {result.rolled_up} row(s) first")
        if result.calls:
            say(
                f"  {'would delete' if dry else 'deleted'} {result.deleted_calls} call(s), with "
                f"{result.deleted_legs} transfer leg(s), {result.deleted_steps} visit(s), "
                f"{result.deleted_commands} command(s) and {result.deleted_events} webhook event(s)"
            )
            if result.kept_calls:
                say(f"  kept {result.kept_calls} old call(s) not wholly rolled up yet")
        say(
            f"  {'would empty' if dry else 'emptied'} the bodies of {result.event_bodies} "
            f"webhook event(s) and {result.command_bodies} command(s)"
        )
