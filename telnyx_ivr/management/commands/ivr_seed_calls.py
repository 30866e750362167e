"""``manage.py ivr_seed_calls``: fill the call log with simulated calls over the past days, for
the dashboards to show something (telnyx_ivr.calls.seeding)."""

import argparse
import logging
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from ...analytics.outcomes import LABELS
from ...calls.seeding import SeedError, seed_calls
from ...models import Call
from ...simulator.script import ScriptError

PROGRESS_EVERY = 100
APP_LOGGER = "telnyx_ivr"


def _whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


class Command(BaseCommand):
    help = (
        "Play simulated calls through the menus, spread over the past days (office hours "
        "busiest, in the site's time zone), with callers who press valid and invalid keys, "
        "stay silent, hang up and answer AI gathers well or badly; then roll them up. The "
        "calls are test calls: the dashboards show them with the test-call switch on. Needs "
        "no web server, worker or broker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--calls", type=_whole_number, default=200, help="how many (default 200)"
        )
        parser.add_argument(
            "--days", type=_whole_number, default=7, help="over how many days, today included (7)"
        )
        parser.add_argument(
            "--menu", metavar="SLUG", help="only this menu (default: every active published one)"
        )
        parser.add_argument("--seed", type=_whole_number, help="the same seed plays the same calls")
        parser.add_argument(
            "--jobs",
            type=_whole_number,
            help="processes playing calls side by side (default 1; more helps with free cores "
            "on PostgreSQL, not on SQLite, whose writers take turns)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the call log has calls already (for start-up scripts)",
        )

    def handle(self, **options):
        count, days = options["calls"], options["days"]
        if count < 1:
            raise CommandError(f"--calls must be at least 1, not {count}")
        if days < 1:
            raise CommandError(f"--days must be at least 1, not {days}")
        if options["if_empty"] and Call.objects.exists():
            self.stdout.write("The call log has calls already: no calls seeded.")
            return

        def progress(done, total):
            if done % PROGRESS_EVERY == 0 and done < total:
                self.stdout.write(f"  {done} of {total} calls played")

        try:
            with _app_logs(quiet=options["verbosity"] < 2):
                report = seed_calls(
                    count,
                    days,
                    slug=options["menu"],
                    seed=options["seed"],
                    jobs=options["jobs"],
                    progress=progress,
                )
        except (SeedError, ImproperlyConfigured, ScriptError) as exc:
            raise CommandError(str(exc)) from None
        outcomes = ", ".join(
            f"{number} {LABELS.get(outcome, outcome).lower()}"
            for outcome, number in report.outcomes.most_common()
        )
        menus = ", ".join(f"{slug} {number}" for slug, number in sorted(report.menus.items()))
        self.stdout.write(
            f"Played {report.calls} test calls over the past {days} day(s) in "
            f"{report.seconds:.1f} s ({report.jobs} process(es), seed {report.seed}): {outcomes}. "
            f"By menu: {menus}. "
            f"Rolled up {report.rolled_up} rows."
        )
        for problem in report.problems:
            self.stderr.write(f"  problem: {problem}")


@contextmanager
def _app_logs(quiet):
    """The app's INFO lines (each refused command of a simulated outage, say) are left out
    unless asked for with -v 2; its warnings and errors still show."""
    logger = logging.getLogger(APP_LOGGER)
    saved = logger.level
    if quiet and logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(saved)
