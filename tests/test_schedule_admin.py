# ruff: noqa: F811 -- the staff fixture is imported from test_menu_admin, then asked for by name
"""The schedules admin, driven like a browser: GET a page, read its form, change fields, POST
it; errors are read at the row they belong to."""

import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from telnyx_ivr.admin.schedules import right_now
from telnyx_ivr.menus.definition import apply_definition
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Menu, Node, OpeningHours, Schedule, ScheduleException

from .admin_pages import listed, readonly, text
from .office_hours import holiday_today, open_around_the_clock
from .test_menu_admin import add_rows, errors_in, read_form, saved, staff  # noqa: F401

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"
ADD = "/admin/telnyx_ivr/schedule/add/"
OVERLAPS = (
    "Overlaps {} in another row. Make one end before the other starts, or put them in one row."
)

pytestmark = pytest.mark.django_db


def change_url(schedule):
    return f"/admin/telnyx_ivr/schedule/{schedule.pk}/change/"


def add_form(staff, **fields):
    data = read_form(staff.get(ADD), form_id="schedule_form")
    # The add page's one empty hours row, left as the admin leaves it when not needed.
    data = {key: value for key, value in data.items() if not key.startswith("hours-0-")}
    data["hours-TOTAL_FORMS"] = "0"
    data.update(name="Head office", key="head-office", time_zone="America/New_York")
    data.update(fields)
    return data


def weekday_hours(*rows):
    return [{"weekday": str(day), "opens": opens, "closes": closes} for day, opens, closes in rows]


def row_errors(response, prefix, index):
    """What the page says at inline row ``prefix-index``: ``{"row": the error across the
    table just above the row, <field>: the error in that field's cell}``, those there are."""
    page = response.content.decode()
    match = re.search(
        r'(?:<tr class="row-form-errors"><td[^>]*>((?:(?!</tr>).)*)</td></tr>\s*)?'
        rf'<tr[^>]*id="{prefix}-{index}"[^>]*>(.*?)</tr>',
        page,
        re.S,
    )
    assert match, f"no row {prefix}-{index}"
    found = {"row": text(match[1])} if match[1] else {}
    for field, cell in re.findall(r'<td class="field-(\w+)">(.*?)</td>', match[2], re.S):
        errors = re.search(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', cell, re.S)
        if errors:
            found[field] = text(errors[1])
    return found


def test_a_schedule_with_hours_and_a_holiday_is_added_through_the_form(staff):
    data = add_form(staff, description="The front desk's phones.")
    add_rows(
        data,
        "hours",
        weekday_hours(*((day, "09:00", "17:00") for day in range(5)), (5, "22:00", "02:00")),
    )
    add_rows(
        data,
        "exceptions",
        [
            {"date": "2026-12-25", "name": "Christmas Day", "opens": "", "closes": ""},
            {"date": "2026-12-24", "name": "Christmas Eve", "opens": "9:00", "closes": "24:00"},
        ],
    )
    saved(staff.post(ADD, data))

    schedule = Schedule.objects.get(key="head-office")
    assert schedule.data() == {
        "name": "Head office",
        "time_zone": "America/New_York",
        "weekly": {
            **{day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "sat": [["22:00", "02:00"]],
        },
        "exceptions": [
            {"date": "2026-12-24", "name": "Christmas Eve", "hours": [["09:00", "24:00"]]},
            {"date": "2026-12-25", "name": "Christmas Day", "hours": []},
        ],
    }
    assert schedule.description == "The front desk's phones."


def test_the_add_page_offers_the_sites_time_zone_and_shows_no_null(staff, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    page = staff.get(ADD)
    data = read_form(page, form_id="schedule_form")
    assert data["time_zone"] == "Europe/Berlin"
    assert data["hours-0-opens"] == ""
    content = page.content.decode()
    assert "null" not in text(content).lower()
    assert '<option value="localtime"' not in content  # the server's clock, not a place
    assert '<option value="America/New_York">' in content


def test_a_row_with_only_an_opening_time_gets_its_error_at_that_row(staff):
    data = add_form(staff)
    add_rows(data, "hours", weekday_hours((0, "09:00", "17:00"), (1, "09:00", "")))
    add_rows(
        data,
        "exceptions",
        [
            {"date": "2026-12-25", "name": "Christmas Day", "opens": "", "closes": ""},
            {"date": "2026-12-24", "name": "Christmas Eve", "opens": "08:00", "closes": ""},
        ],
    )
    response = staff.post(ADD, data)

    assert response.status_code == 200
    assert not Schedule.objects.exists()
    assert row_errors(response, "hours", 1) == {
        "closes": "Give the closing time too (00:00 for midnight)."
    }
    assert row_errors(response, "hours", 0) == {}
    assert row_errors(response, "exceptions", 1) == {
        "closes": "Give both times for special hours, or neither for a day closed all day."
    }
    assert row_errors(response, "exceptions", 0) == {}
    # What was typed stays in the boxes, as typed.
    assert read_form(response, form_id="schedule_form")["hours-1-opens"] == "09:00"


def test_overlapping_hours_on_one_day_are_refused_with_a_plain_message(staff):
    data = add_form(staff)
    add_rows(
        data,
        "hours",
        weekday_hours(
            (0, "09:00", "13:00"),
            (0, "14:00", "18:00"),
            (0, "12:00", "15:00"),  # overlaps both
            (1, "12:00", "15:00"),  # another day: fine
            (4, "20:00", "02:00"),
            (4, "23:00", "00:00"),  # inside the night line
        ),
    )
    response = staff.post(ADD, data)

    assert response.status_code == 200, response
    assert not Schedule.objects.exists()
    assert row_errors(response, "hours", 2) == {"row": OVERLAPS.format("Monday 09:00 to 13:00")}
    assert row_errors(response, "hours", 5) == {"row": OVERLAPS.format("Friday 20:00 to 02:00")}
    for index in (0, 1, 3, 4):
        assert row_errors(response, "hours", index) == {}

    # Hours that only touch are one after the other, not overlapping.
    data["hours-2-opens"], data["hours-2-closes"] = "13:00", "14:00"
    data["hours-5-opens"], data["hours-5-closes"] = "10:00", "20:00"
    saved(staff.post(ADD, data))
    assert Schedule.objects.get().data()["weekly"]["mon"] == [
        ["09:00", "13:00"],
        ["13:00", "14:00"],
        ["14:00", "18:00"],
    ]


def test_a_day_closed_all_day_takes_one_row_and_special_hours_do_not_overlap(staff):
    data = add_form(staff)
    add_rows(
        data,
        "exceptions",
        [
            {"date": "2026-12-25", "name": "Christmas Day", "opens": "", "closes": ""},
            {"date": "2026-12-25", "name": "Christmas Day", "opens": "10:00", "closes": "12:00"},
            {"date": "2026-12-24", "name": "Christmas Eve", "opens": "08:00", "closes": "12:00"},
            {"date": "2026-12-24", "name": "Christmas Eve", "opens": "11:00", "closes": "13:00"},
        ],
    )
    response = staff.post(ADD, data)

    assert row_errors(response, "exceptions", 1) == {
        "row": "Dec. 25, 2026 is in another row too. A day closed all day takes one row; "
        "special hours may take several, each with both times."
    }
    assert row_errors(response, "exceptions", 3) == {
        "row": OVERLAPS.format("Dec. 24, 2026 08:00 to 12:00")
    }
    assert not Schedule.objects.exists()


def test_the_time_zone_is_a_list_and_mars_is_refused_at_the_field(staff):
    data = add_form(staff, time_zone="Mars/Olympus")
    response = staff.post(ADD, data)

    assert response.status_code == 200
    assert not Schedule.objects.exists()
    page = response.content.decode()
    assert re.search(r'<select name="time_zone"[^>]*id="id_time_zone"', page)
    error = re.search(r'id="id_time_zone_error"[^>]*>(.*?)</ul>', page, re.S)
    assert error, errors_in(response)
    assert text(error[1]) == (
        "'Mars/Olympus' is not a time zone. Use a name like Europe/Berlin or America/New_York."
    )


@pytest.fixture
def example_menu():
    """The classic tree: its office-hours step checks the schedule 'office-hours'."""
    return apply_definition(json.loads((EXAMPLES / "classic_tree.json").read_text()))


def test_the_change_page_says_what_the_schedule_says_right_now_and_who_uses_it(staff, example_menu):
    schedule = open_around_the_clock("office-hours")
    other = Menu.objects.create(name="Night line", slug="night-line")
    Node.objects.create(
        menu=other, key="hours", name="Open yet?", kind="schedule", schedule=schedule
    )

    page = staff.get(change_url(schedule)).content.decode()
    now = readonly(page, "status_now")
    day = "(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
    assert re.fullmatch(rf"Open \({day} \d\d:\d\d in America/New_York\)", now), now
    assert readonly(page, "used_by") == (
        "Classic tree: sales, support, operator (step: Is the office open?) "
        "Night line (step: Open yet?)"
    )
    assert f'href="/admin/telnyx_ivr/menu/{example_menu.pk}/change/"' in page
    assert f'href="/admin/telnyx_ivr/menu/{other.pk}/change/"' in page
    # The key is how the menus (and their published versions) find the schedule.
    assert 'name="key"' not in page

    holiday_today("office-hours", name="Founders' Day")
    page = staff.get(change_url(schedule)).content.decode()
    assert readonly(page, "status_now").startswith("Holiday: Founders' Day (")

    rows = listed(staff.get("/admin/telnyx_ivr/schedule/").content.decode())
    assert [(row["name"], row["key"], row["time_zone"], row["menu_count"]) for row in rows] == [
        (schedule.name, "office-hours", "America/New_York", "2")
    ]
    assert rows[0]["status_now"].startswith("Holiday: Founders' Day (")


def test_a_menu_whose_live_version_still_checks_it_is_listed_and_keeps_the_key(staff):
    document = json.loads((EXAMPLES / "classic_tree.json").read_text())
    menu = import_definition(document, publish=True).menu
    spare = Schedule.objects.create(key="spare", name="Spare", time_zone="Europe/Berlin")
    Node.objects.filter(menu=menu, kind="schedule").update(schedule=spare)

    page = staff.get(change_url(Schedule.objects.get(key="office-hours"))).content.decode()
    assert readonly(page, "used_by") == (
        "Classic tree: sales, support, operator (its live version; the draft no longer checks it)"
    )
    assert 'name="key"' not in page


def test_right_now_reads_the_offices_clock():
    schedule = Schedule.objects.create(key="berlin", name="Berlin", time_zone="Europe/Berlin")
    OpeningHours.objects.create(schedule=schedule, weekday=1, opens=time(9), closes=time(17))
    ScheduleException.objects.create(
        schedule=schedule, date=date(2026, 12, 25), name="Christmas Day"
    )
    ScheduleException.objects.create(
        schedule=schedule,
        date=date(2026, 12, 29),
        name="Year's end",
        opens=time(9),
        closes=time(12),
    )
    at = lambda *parts: datetime(*parts, tzinfo=UTC)  # noqa: E731
    assert right_now(schedule, at(2026, 12, 1, 9, 32)) == "Open (Tuesday 10:32 in Europe/Berlin)"
    assert right_now(schedule, at(2026, 12, 1, 16, 0)) == "Closed (Tuesday 17:00 in Europe/Berlin)"
    assert right_now(schedule, at(2026, 12, 25, 10, 0)) == (
        "Holiday: Christmas Day (Friday 11:00 in Europe/Berlin)"
    )
    assert right_now(schedule, at(2026, 12, 29, 9, 0)) == (
        "Open, special hours for Year's end (Tuesday 10:00 in Europe/Berlin)"
    )


def test_an_unused_schedule_says_so_and_its_key_can_be_changed(staff):
    schedule = Schedule.objects.create(key="spare", name="Spare", time_zone="Europe/Berlin")
    page = staff.get(change_url(schedule)).content.decode()
    assert readonly(page, "used_by") == (
        "No menu uses it yet: choose it in a menu's office-hours step."
    )
    assert 'name="key"' in page


def test_deleting_a_schedule_menus_use_says_which_steps_and_what_to_do(staff, example_menu):
    schedule = Schedule.objects.get(key="office-hours")
    response = staff.get(f"/admin/telnyx_ivr/schedule/{schedule.pk}/delete/")
    page = response.content.decode()
    assert "Menus check this schedule, so it can't be deleted." in text(page)
    assert (
        "The step “Is the office open?” of the menu Classic tree: sales, support, operator"
        in text(page)
    )
    assert "Node:" not in page
    assert 'name="post"' not in page  # no button that would try
    assert Schedule.objects.filter(pk=schedule.pk).exists()
