"""Admin for office hours: a schedule's weekly opening hours and its holidays on one page,
what the schedule says right now, and which menus check it.

Menus' office-hours steps name a schedule; calls read it as it is when they get there, so
an edit here applies to every menu that uses the schedule at once, without publishing.
"""

import zoneinfo
from datetime import time
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join

from ..engine.schedule import HOLIDAY, OPEN, ScheduleError, exception_name, status_at
from ..models import Menu, Node, OpeningHours, Schedule, ScheduleException

# A place's time zone, never the server's own clock or the zone of no place.
NOT_PLACES = {"localtime", "Factory"}
DAY_MINUTES = 24 * 60


def time_zone_choices(current=""):
    names = sorted(zoneinfo.available_timezones() - NOT_PLACES)
    if current and current not in names:
        # Kept as stored, so opening the page never changes it without a word; the model's
        # validator says at the field what is wrong with it.
        names.insert(0, current)
    return [(name, name) for name in names]


class TimeZoneField(forms.ChoiceField):
    """The list offers only time zones; a value from elsewhere (a crafted POST) is refused by
    the model's validator, in its words, rather than by Django's "Select a valid choice"."""

    def valid_value(self, value):
        return True


class ScheduleForm(forms.ModelForm):
    time_zone = TimeZoneField(
        label="Time zone",
        help_text=Schedule._meta.get_field("time_zone").help_text,
    )

    class Meta:
        model = Schedule
        fields = ["name", "key", "time_zone", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        field.choices = time_zone_choices(self.instance.time_zone)
        if self.instance.pk is None:
            field.initial = settings.TIME_ZONE


class ClockField(forms.TimeField):
    """A time of day typed as 09:00 or 17:30 and shown the same way (not 09:00:00). 24:00 is
    taken as 00:00, which a closing time reads as the midnight that ends the day."""

    widget = forms.TimeInput(format="%H:%M", attrs={"size": 6, "placeholder": "hh:mm"})

    def __init__(self, *, missing="", **kwargs):
        super().__init__(**kwargs)
        self.error_messages["invalid"] = "Write a time of day like 09:00 or 17:30."
        if missing:
            self.error_messages["required"] = missing

    def to_python(self, value):
        if isinstance(value, str) and value.strip() in ("24:00", "24:00:00"):
            return time(0)
        return super().to_python(value)


class OpeningHoursForm(forms.ModelForm):
    opens = ClockField(missing="Give the opening time too.")
    closes = ClockField(
        missing="Give the closing time too (00:00 for midnight).",
        help_text=OpeningHours._meta.get_field("closes").help_text,
    )

    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]
        labels = {"opens": "Opens", "closes": "Closes"}
        error_messages = {"weekday": {"required": "Choose the day."}}


class ScheduleExceptionForm(forms.ModelForm):
    # An empty box reads "closed": both left so, the day is closed all day.
    opens = ClockField(
        required=False, help_text=ScheduleException._meta.get_field("opens").help_text
    )
    closes = ClockField(required=False)

    class Meta:
        model = ScheduleException
        fields = ["date", "name", "opens", "closes"]
        labels = {"name": "Name of the day", "opens": "Opens", "closes": "Closes"}
        help_texts = {"name": ""}
        widgets = {"name": forms.TextInput(attrs={"size": 28, "placeholder": "Christmas Day"})}
        error_messages = {
            "date": {"required": "Give the date.", "invalid": "Write a date like 2026-12-25."},
            "name": {"required": "Name the day, e.g. Christmas Day."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("opens", "closes"):
            self.fields[name].widget.attrs["placeholder"] = "closed"


def _span(row):
    """A row's hours as minutes from the start of its day: 00:00 closing is the midnight that
    ends the day, and a closing time before the opening runs past midnight."""
    start = row["opens"].hour * 60 + row["opens"].minute
    end = row["closes"].hour * 60 + row["closes"].minute
    return start, end + DAY_MINUTES if end <= start else end


def _hours_text(row):
    return f"{row['opens']:%H:%M} to {row['closes']:%H:%M}"


class OneDayRowsFormSet(BaseInlineFormSet):
    """Checks rows of one day against each other. Each problem is the later row's, shown
    across the table just above it: in a cell, a sentence would widen its column and push
    the other boxes of every row aside."""

    def rows_by(self, field):
        """``{value of field: [(form, cleaned_data), ...]}`` of the rows that will be saved
        and passed their own checks, in page order."""
        found = {}
        for form in self.forms:
            if form.cleaned_data and not self._should_delete_form(form) and not form.errors:
                found.setdefault(form.cleaned_data[field], []).append((form, form.cleaned_data))
        return found

    def refuse_overlaps(self, rows, day):
        """Puts an error on each of ``rows`` (of one day, all with both times) whose hours
        overlap those of an earlier row."""
        for index, (form, data) in enumerate(rows):
            start, end = _span(data)
            for _, other in rows[:index]:
                other_start, other_end = _span(other)
                if start < other_end and other_start < end:
                    form.add_error(
                        None,
                        f"Overlaps {day} {_hours_text(other)} in another row. Make one end "
                        "before the other starts, or put them in one row.",
                    )
                    break


class OpeningHoursFormSet(OneDayRowsFormSet):
    def clean(self):
        super().clean()
        for weekday, rows in self.rows_by("weekday").items():
            self.refuse_overlaps(rows, OpeningHours.Weekday(weekday).label)


class ScheduleExceptionFormSet(OneDayRowsFormSet):
    def clean(self):
        super().clean()
        for day, rows in self.rows_by("date").items():
            shown = formats.date_format(day, "DATE_FORMAT")
            if len(rows) > 1 and any(data["opens"] is None for _, data in rows):
                for form, _ in rows[1:]:
                    form.add_error(
                        None,
                        f"{shown} is in another row too. A day closed all day takes one row; "
                        "special hours may take several, each with both times.",
                    )
                continue
            self.refuse_overlaps([row for row in rows if row[1]["opens"] is not None], shown)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    form = OpeningHoursForm
    formset = OpeningHoursFormSet
    extra = 1
    verbose_name = "day's hours"
    verbose_name_plural = "Weekly opening hours"


class ScheduleExceptionInline(admin.TabularInline):
    model = ScheduleException
    form = ScheduleExceptionForm
    formset = ScheduleExceptionFormSet
    extra = 0
    verbose_name = "holiday or special day"
    verbose_name_plural = "Holidays and special days"


def right_now(schedule, moment):
    """What ``schedule`` says at ``moment``, by the office's clock: "Open (Tuesday 10:32 in
    America/New_York)", "Closed (…)", "Holiday: Christmas Day (…)"."""
    data = schedule.data()
    try:
        status = status_at(data, moment)
    except ScheduleError as exc:
        return f"Can't tell: {exc}."
    local = moment.astimezone(ZoneInfo(schedule.time_zone))
    clock = f"{OpeningHours.Weekday(local.weekday()).label} {local:%H:%M} in {schedule.time_zone}"
    special = exception_name(data, moment)
    if status == HOLIDAY:
        words = f"Holiday: {special}"
    elif status == OPEN:
        words = f"Open, special hours for {special}" if special else "Open"
    else:
        words = "Closed"
    return f"{words} ({clock})"


def steps_by_menu(schedules):
    """``[(menu, [node, ...])]``: the menus whose steps check one of ``schedules``."""
    found = {}
    nodes = Node.objects.filter(schedule__in=schedules).select_related("menu")
    for node in nodes.order_by("menu__name", "position", "id"):
        found.setdefault(node.menu, []).append(node)
    return list(found.items())


def _step_name(node):
    return node.name or node.key


def _menu_link(menu):
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:telnyx_ivr_menu_change", args=[menu.pk]), menu
    )


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    form = ScheduleForm
    inlines = [OpeningHoursInline, ScheduleExceptionInline]
    list_display = ["name", "key", "time_zone", "status_now", "menu_count"]
    search_fields = ["name", "key", "description"]
    readonly_fields = ["status_now", "used_by"]

    class Media:
        css = {"all": ["telnyx_ivr/schedule_admin.css"]}

    fieldsets = [
        (
            None,
            {
                "fields": ["name", "key", "time_zone", "description"],
                "description": "Hours are read on the office's clock, in the time zone below. "
                "A closing time of 00:00 is midnight at the end of the day; a closing time "
                "before the opening time runs past midnight (22:00 to 02:00). A day without "
                "hours is closed all day. A holiday or special day replaces its date's weekly "
                "hours.",
            },
        ),
        ("Status", {"fields": ["status_now", "used_by"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("hours", "exceptions")
            .annotate(menus_using=Count("nodes__menu", distinct=True))
        )

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # nothing to tell before it is saved
            return self.fieldsets[:1]
        return self.fieldsets

    def get_prepopulated_fields(self, request, obj=None):
        # Only a new schedule's key follows its name: a saved key is what menus go by.
        return {"key": ["name"]} if obj is None else {}

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and _named_by_menus(obj):
            # Menus name the schedule by its key: under a new key their live versions would
            # no longer find it and go on with the copy published with them, holidays added
            # here since then left out.
            fields.append("key")
        return fields

    @admin.display(description="right now")
    def status_now(self, obj):
        return right_now(obj, timezone.now())

    @admin.display(description="menus using it", ordering="menus_using")
    def menu_count(self, obj):
        return obj.menus_using

    @admin.display(description="used by")
    def used_by(self, obj):
        uses = [
            (_menu_link(menu), f"step: {', '.join(_step_name(node) for node in nodes)}")
            for menu, nodes in steps_by_menu([obj])
        ]
        # Calls run the live version, which can still check the schedule after the draft
        # stopped: those menus read it too, until the draft is published.
        live_only = _live_menus_naming(obj).exclude(nodes__schedule=obj).order_by("name")
        uses += [
            (_menu_link(menu), "its live version; the draft no longer checks it")
            for menu in live_only
        ]
        if not uses:
            return "No menu uses it yet: choose it in a menu's office-hours step."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} ({})</li>", uses))

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            # Only menu steps protect a schedule; Django would list them as "Node: …".
            protected = [
                format_html("The step “{}” of the menu {}", _step_name(node), _menu_link(menu))
                for menu, nodes in steps_by_menu(objs)
                for node in nodes
            ]
        return deleted, counts, perms_needed, protected

    def render_delete_form(self, request, context):
        if context.get("protected"):
            self.message_user(
                request,
                "Menus check this schedule, so it can't be deleted. In each menu below, choose "
                "another schedule for the step (or remove the step), save, then delete this one.",
                messages.WARNING,
            )
        return super().render_delete_form(request, context)


def _live_menus_naming(schedule):
    return Menu.objects.filter(live_version__definition__schedules__has_key=schedule.key)


def _named_by_menus(schedule):
    return schedule.nodes.exists() or _live_menus_naming(schedule).exists()
