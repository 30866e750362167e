"""The example menu's office hours, set for a test. The classic tree passes option 0 through
its ``office-hours`` schedule, so what a call pressing 0 hears depends on the hour the suite
runs; tests that are about something else open the office around the clock, and tests of the
closed or holiday path set those. Calls read a schedule's rows when they reach it, so this
holds for a worker in another process too."""

from datetime import time, timedelta

from django.utils import timezone

from telnyx_ivr.models import OpeningHours, Schedule, ScheduleException

EXAMPLE = "office-hours"


def open_around_the_clock(key=EXAMPLE):
    """Every day 00:00 to midnight, no holidays."""
    schedule = Schedule.objects.get(key=key)
    schedule.exceptions.all().delete()
    schedule.hours.all().delete()
    for weekday in range(7):
        OpeningHours.objects.create(
            schedule=schedule, weekday=weekday, opens=time(0), closes=time(0)
        )
    return schedule


def closed_all_week(key=EXAMPLE):
    """No opening hours at all, no holidays."""
    schedule = Schedule.objects.get(key=key)
    schedule.exceptions.all().delete()
    schedule.hours.all().delete()
    return schedule


def holiday_today(key=EXAMPLE, name="Founders' Day"):
    """Open around the clock, but today (and tomorrow, so a call at midnight is covered) are
    holidays, in the schedule's own time zone."""
    schedule = open_around_the_clock(key)
    today = timezone.now().astimezone(timezone.get_default_timezone()).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        ScheduleException.objects.create(schedule=schedule, date=day, name=name)
    return schedule
