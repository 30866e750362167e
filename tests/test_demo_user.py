"""The demo login belongs to the example project, never to the package a host installs: a
command that makes any user a superuser with a published password must not ship."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command, get_commands


def test_the_package_ships_no_demo_login_command():
    commands = get_commands()
    shipped = sorted(name for name, app in commands.items() if app == "telnyx_ivr")
    assert "ivr_demo_user" not in commands
    assert [name for name in shipped if "demo" in name or "user" in name] == []
    assert commands["demo_user"] == "project"


@pytest.mark.django_db
def test_demo_user_makes_the_demo_superuser_with_debug_on(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_user", "admin", "telnyx-ivr-demo", stdout=out)
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser
    assert user.check_password("telnyx-ivr-demo")
    assert "Created demo superuser 'admin'" in out.getvalue()


@pytest.mark.django_db
def test_demo_user_refuses_with_debug_off(settings):
    settings.DEBUG = False
    get_user_model().objects.create_user("admin", password="their-own-password")
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("demo_user", "admin", "telnyx-ivr-demo", stdout=StringIO())
    user = get_user_model().objects.get(username="admin")
    assert not user.is_superuser
    assert user.check_password("their-own-password")
