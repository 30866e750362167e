"""System check telnyx_ivr.W005: the apps the read API needs are installed."""

from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from telnyx_ivr.checks import check_read_api_apps


def without(*names):
    return override_settings(
        INSTALLED_APPS=[app for app in settings.INSTALLED_APPS if app not in names]
    )


def test_the_example_project_has_every_app_the_api_needs():
    assert check_read_api_apps() == []


def test_a_missing_app_is_named_with_what_it_is_for():
    with without("drf_spectacular_sidecar"):
        [warning] = check_read_api_apps()
    assert warning.id == "telnyx_ivr.W005"
    assert '"drf_spectacular_sidecar" for the Swagger UI files of its docs page' in warning.msg
    assert 'drf_spectacular"' not in warning.msg  # the installed ones are not named
    assert warning.hint == "Add 'drf_spectacular_sidecar' to INSTALLED_APPS."


def test_manage_py_check_reports_every_missing_app(capsys):
    with without("django_filters", "drf_spectacular", "drf_spectacular_sidecar"):
        call_command("check", "--fail-level", "CRITICAL")  # tests run with DEBUG off
    reported = capsys.readouterr().err
    assert "telnyx_ivr.W005" in reported
    for name in ("django_filters", "drf_spectacular", "drf_spectacular_sidecar"):
        assert f'"{name}" for' in reported
