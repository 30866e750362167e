"""``manage.py ivr_reprocess``: process failed webhook events again, here and now."""

from django.core.management.base import BaseCommand, CommandError

from ...reprocessing import (
    ALREADY_PROCESSED,
    SelectionError,
    find_event,
    parse_since,
    reprocess,
    select,
)


class Command(BaseCommand):
    help = (
        "Process stored webhook events again, one by one in the order they occurred, and say "
        "what became of each: processed now, already processed, or still failing and why. "
        "No command reaches Telnyx twice. Exits 1 when an event is still not processed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--event",
            action="append",
            metavar="ID",
            help="this event: its number in the admin, or Telnyx's event id (repeatable)",
        )
        parser.add_argument("--failed", action="store_true", help="every failed event")
        parser.add_argument(
            "--call",
            metavar="CALL_CONTROL_ID",
            help="the failed events of this call (with --force: all its events)",
        )
        parser.add_argument(
            "--since",
            metavar="WHEN",
            help="with --failed or --call: only events received since then: 90s, 30m, 2h, "
            "7d ago, or a date or time (2026-11-21, 2026-11-21T12:00) in the site's time zone",
        )
        parser.add_argument(
            "--force", action="store_true", help="process events that were processed already"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="change nothing; say what would be done"
        )

    def handle(self, **options):
        events = self._chosen(options)
        say = self.stdout.write
        if not events:
            say("No failed events to process again.")
            return
        if options["dry_run"]:
            say("Dry run: nothing is changed.")
        results = []
        for event in events:
            result = reprocess(event, force=options["force"], dry_run=options["dry_run"])
            results.append(result)
            say(result.line())
        if any(r.outcome == ALREADY_PROCESSED for r in results):
            say("Events already processed are left alone: add --force to process them again.")
        failing = [r for r in results if not r.ok]
        if failing:
            raise CommandError(
                f"{len(failing)} of {len(results)} event(s) still not processed.", returncode=1
            )

    def _chosen(self, options):
        asked, failed, call = options["event"], options["failed"], options["call"]
        if not (asked or failed or call):
            raise CommandError("Say which events: --event ID, --failed or --call CALL_CONTROL_ID.")
        if asked and (failed or call or options["since"]):
            raise CommandError("--event names events itself: leave out --failed, --call, --since.")
        try:
            if asked:
                return list(dict.fromkeys(find_event(identifier) for identifier in asked))
            since = parse_since(options["since"]) if options["since"] else None
            return list(select(call_control_id=call, since=since, force=options["force"]))
        except SelectionError as exc:
            raise CommandError(str(exc)) from None
