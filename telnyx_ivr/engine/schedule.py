"""Office hours, pure: whether a schedule is open, closed or on a holiday at a given moment.

The moment is passed in (the core reads no clock). Hours are wall-clock times in the
schedule's own time zone, so "Monday 08:00-17:00" means 08:00 on the office's clock on
either side of a daylight saving change; ``zoneinfo`` turns the moment into that clock.

The data, as it is stored in a menu definition (``schedules`` in docs/menu-format.md):

    {
        "time_zone": "Europe/Berlin",
        "weekly": {"mon": [["08:00", "17:00"]], "sat": [["10:00", "13:00"]], ...},
        "exceptions": [
            {"date": "2026-12-25", "name": "Christmas Day", "hours": []},
            {"date": "2026-12-24", "name": "Christmas Eve", "hours": [["08:00", "12:00"]]},
        ],
    }

- An interval is ``[start, end)``. ``"24:00"`` ends at midnight; an end before its start
  runs past midnight into the next day (``["22:00", "02:00"]``), as the day it starts on says.
- A day not in ``weekly`` is closed all day.
- An exception replaces its date's weekly hours. With no hours it is a holiday all day; with
  hours it is open within them and a holiday outside them. The hours of the day before that
  run past midnight still count on an exception's date.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

OPEN, CLOSED, HOLIDAY = "open", "closed", "holiday"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIDNIGHT = timedelta(hours=24)


class ScheduleError(ValueError):
    """The schedule's data cannot be read: its words say which part and why."""


@dataclass(frozen=True)
class Interval:
    start: timedelta  # since local midnight
    end: timedelta  # may exceed 24 h: the part past midnight belongs to the next day

    def spill(self):
        """The part of this interval after midnight, as an interval of the next day."""
        if self.end <= MIDNIGHT:
            return None
        return Interval(timedelta(0), self.end - MIDNIGHT)

    def holds(self, moment):
        return self.start <= moment < min(self.end, MIDNIGHT)


@dataclass(frozen=True)
class Schedule:
    time_zone: ZoneInfo
    weekly: dict  # weekday index (0 = Monday) -> tuple of Interval
    exceptions: dict  # date -> (name, tuple of Interval)

    def hours_of(self, day):
        """``(intervals, is_exception)`` for local ``day``."""
        if day in self.exceptions:
            return self.exceptions[day][1], True
        return self.weekly.get(day.weekday(), ()), False


def status_at(schedule, moment):
    """OPEN, CLOSED or HOLIDAY for ``schedule`` (a Schedule or its data) at ``moment``, an
    aware datetime."""
    if not isinstance(schedule, Schedule):
        schedule = parse_schedule(schedule)
    if moment.tzinfo is None:
        raise ScheduleError("the moment must be an aware datetime (with its time zone)")
    local = moment.astimezone(schedule.time_zone)
    day = local.date()
    clock = local.replace(tzinfo=None) - datetime.combine(day, time())
    hours, special = schedule.hours_of(day)
    if any(interval.holds(clock) for interval in hours):
        return OPEN
    yesterday, _ = schedule.hours_of(day - timedelta(days=1))
    spills = (interval.spill() for interval in yesterday)
    if any(spill is not None and spill.holds(clock) for spill in spills):
        return OPEN
    return HOLIDAY if special else CLOSED


def exception_name(schedule, moment):
    """The name of the exception in force at ``moment`` (its local date), or None."""
    if not isinstance(schedule, Schedule):
        schedule = parse_schedule(schedule)
    found = schedule.exceptions.get(moment.astimezone(schedule.time_zone).date())
    return found[0] if found else None


def parse_schedule(data):
    """A Schedule from its definition data; ScheduleError names what is wrong."""
    if not isinstance(data, dict):
        raise ScheduleError("a schedule is an object with time_zone, weekly and exceptions")
    try:
        zone = ZoneInfo(str(data.get("time_zone") or ""))
    except (KeyError, ValueError) as exc:
        raise ScheduleError(f"time_zone: {data.get('time_zone')!r} is not a time zone") from exc
    weekly = {}
    for name, intervals in (data.get("weekly") or {}).items():
        if name not in WEEKDAYS:
            raise ScheduleError(f"weekly: {name!r} is not a day ({', '.join(WEEKDAYS)})")
        weekly[WEEKDAYS.index(name)] = _intervals(intervals, f"weekly.{name}")
    exceptions = {}
    for index, exception in enumerate(data.get("exceptions") or []):
        where = f"exceptions[{index}]"
        try:
            day = date.fromisoformat(exception["date"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ScheduleError(f"{where}.date: a date is written 2026-12-25") from exc
        if day in exceptions:
            raise ScheduleError(f"{where}.date: {day.isoformat()} is given twice")
        name = exception.get("name") or ""
        exceptions[day] = (name, _intervals(exception.get("hours") or [], f"{where}.hours"))
    return Schedule(zone, weekly, exceptions)


def _intervals(data, where):
    found = []
    for index, pair in enumerate(data):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ScheduleError(
                f"{where}[{index}]: an interval is [start, end], e.g. [08:00, 17:00]"
            )
        start, end = (_clock(value, f"{where}[{index}]") for value in pair)
        if start == MIDNIGHT:
            raise ScheduleError(f"{where}[{index}]: an interval cannot start at 24:00")
        if end == start:
            raise ScheduleError(
                f"{where}[{index}]: an interval that ends when it starts is empty "
                "(all day is 00:00 to 24:00)"
            )
        if end < start:
            end += MIDNIGHT  # runs past midnight
        found.append(Interval(start, end))
    return tuple(found)


def _clock(value, where):
    if value == "24:00":
        return MIDNIGHT
    try:
        parsed = time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ScheduleError(f"{where}: {value!r} is not a time of day like 08:30") from exc
    return datetime.combine(date.min, parsed) - datetime.combine(date.min, time())
