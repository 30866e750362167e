import pytest
from django.core.exceptions import ImproperlyConfigured

from project.env import database_from_url


def test_postgres_url():
    config = database_from_url("postgres://u:p%40ss@db.example:5433/ivr?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "u",
        "p@ss",
        "db.example",
        "5433",
    )
    assert config["NAME"] == "ivr"
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_absolute_path():
    assert database_from_url("sqlite:////tmp/x.sqlite3")["NAME"] == "/tmp/x.sqlite3"


def test_unsupported_scheme_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL scheme 'mysql'"):
        database_from_url("mysql://localhost/x")
