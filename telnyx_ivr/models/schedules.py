"""Office hours shared by menus: weekly opening hours in a named time zone, and dated
exceptions (holidays, special hours). A menu's office-hours node names a schedule by key;
calls read the schedule as it is when they reach the node, so a holiday added here applies
to every menu at once, without publishing (docs/menu-format.md, *Schedules*)."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models

from ..engine.schedule import WEEKDAYS
from .menus import key_validator


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"'{value}' is not a time zone. Use a name like Europe/Berlin or America/New_York."
        )


class Schedule(models.Model):
    key = models.CharField(
        max_length=64,
        unique=True,
        validators=[key_validator],
        help_text="How menus name it; lowercase letters, digits, '-' and '_'.",
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="The office's clock: opening hours are read in this time zone, also across "
        "daylight saving changes.",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def data(self):
        """The schedule as a menu definition holds it (docs/menu-format.md, *Schedules*)."""
        weekly = {}
        for row in self.hours.all():
            weekly.setdefault(WEEKDAYS[row.weekday], []).append(_interval(row.opens, row.closes))
        exceptions = {}
        for row in self.exceptions.all():
            day = exceptions.setdefault(
                row.date.isoformat(),
                {"date": row.date.isoformat(), "name": row.name, "hours": []},
            )
            if row.opens is not None and row.closes is not None:
                day["hours"].append(_interval(row.opens, row.closes))
            if not day["name"]:
                day["name"] = row.name
        return {
            "name": self.name,
            "time_zone": self.time_zone,
            "weekly": {day: weekly[day] for day in WEEKDAYS if day in weekly},
            "exceptions": [exceptions[day] for day in sorted(exceptions)],
        }


def _interval(opens, closes):
    # A closing time of 00:00 is the midnight that ends the day: 09:00-00:00 is open until
    # midnight, and 00:00-00:00 is the whole day.
    end = "24:00" if closes.hour == 0 and closes.minute == 0 else closes.strftime("%H:%M")
    return [opens.strftime("%H:%M"), end]


def _refuse_empty_hours(opens, closes):
    # 00:00 to 00:00 is the whole day; any other opening that closes when it opens is empty.
    if opens is not None and opens == closes and opens.hour + opens.minute:
        raise ValidationError(
            {"closes": "Closes when it opens: for the whole day use 00:00 to 00:00."}
        )


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField("day", choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(
        help_text="00:00 means midnight at the end of the day; a time before the opening "
        "time runs past midnight."
    )

    class Meta:
        ordering = ["schedule", "weekday", "opens"]
        verbose_name = "opening hours"
        verbose_name_plural = "weekly opening hours"

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self):
        _refuse_empty_hours(self.opens, self.closes)


class ScheduleException(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField()
    name = models.CharField(
        max_length=200, help_text="What callers' day it is, e.g. Christmas Day."
    )
    opens = models.TimeField(
        null=True, blank=True, help_text="Leave both times empty for a day closed all day."
    )
    closes = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["schedule", "date", "opens"]
        verbose_name = "holiday or special day"
        verbose_name_plural = "holidays and special days"

    def __str__(self):
        return f"{self.date}: {self.name}"

    def clean(self):
        if (self.opens is None) != (self.closes is None):
            missing = "closes" if self.closes is None else "opens"
            raise ValidationError(
                {missing: "Give both times for special hours, or neither for a day closed all day."}
            )
        _refuse_empty_hours(self.opens, self.closes)
