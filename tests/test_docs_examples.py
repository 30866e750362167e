"""Every Python example of the README and docs/ runs, as written.

The host's guide (docs/integration.md) and the host test example (docs/testing.md) are applied
to a new project in tests/test_host_project.py. The rest run here, on a site that mounts the
app under another prefix than the example project's (tests/urls_other_mount.py):
- a snippet (no file header) is executed as a script;
- a test file (``# tests/test_x.py``) has its test functions called with this suite's fixtures;
- a settings file (``# settings.py``) is executed and its ``TELNYX_IVR`` must be a dict the app
  accepts, every key a real setting.
"""

import inspect

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from telnyx_ivr.conf import IVRSettings

from .docs_examples import all_python_blocks

HOST_PROJECT_DOCS = {"docs/integration.md", "docs/testing.md"}
OTHER_MOUNT = "tests.urls_other_mount"

EXAMPLES = [block for block in all_python_blocks() if block.doc not in HOST_PROJECT_DOCS]
SNIPPETS = [block for block in EXAMPLES if block.file is None]
TEST_FILES = [block for block in EXAMPLES if block.file and block.file.startswith("tests/")]
SETTINGS_FILES = [block for block in EXAMPLES if block.file == "settings.py"]
OTHER_FILES = [block for block in EXAMPLES if block.file and block.file.endswith("urls.py")]


def ids(blocks):
    return [block.where for block in blocks]


def run(block, namespace=None):
    namespace = {"__name__": f"docs_example_{block.line}", **(namespace or {})}
    exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace


def test_every_example_is_run_somewhere():
    classified = SNIPPETS + TEST_FILES + SETTINGS_FILES + OTHER_FILES
    assert sorted(ids(classified)) == sorted(ids(EXAMPLES))
    assert len(EXAMPLES) >= 8  # the scan does find the docs' blocks


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("block", SNIPPETS, ids=ids(SNIPPETS))
def test_snippet_runs(block, settings):
    settings.ROOT_URLCONF = OTHER_MOUNT
    run(block)


@pytest.mark.parametrize("block", TEST_FILES, ids=ids(TEST_FILES))
def test_documented_test_file_passes(block, request, settings):
    settings.ROOT_URLCONF = OTHER_MOUNT
    tests = {
        name: function
        for name, function in run(block).items()
        if name.startswith("test_") and callable(function)
    }
    assert tests, f"{block.where} defines no test"
    for function in tests.values():
        arguments = {
            name: request.getfixturevalue(name) for name in inspect.signature(function).parameters
        }
        function(**arguments)


@pytest.mark.parametrize("block", SETTINGS_FILES, ids=ids(SETTINGS_FILES))
def test_documented_settings_are_accepted(block, monkeypatch):
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    # What a settings.py made by startproject already has above the documented lines.
    given = {"INSTALLED_APPS": ["django.contrib.admin"], "DEBUG": True}
    namespace = run(block, dict(given))
    if "TELNYX_IVR" not in namespace:  # Celery settings, say: they ran, and set something
        assert [name for name in namespace if name.isupper() and name not in given]
        return
    documented = namespace["TELNYX_IVR"]
    assert isinstance(documented, dict)
    with override_settings(TELNYX_IVR=documented):
        try:
            accepted = IVRSettings().user_settings  # an unknown key is an error naming it
        except ImproperlyConfigured as exc:
            pytest.fail(f"{block.where}: {exc}")
    assert accepted == documented


@pytest.mark.parametrize("block", OTHER_FILES, ids=ids(OTHER_FILES))
def test_documented_urls_mount_the_webhook(block):
    from django.urls import path  # what a urls.py made by startproject already has

    namespace = run(block, {"urlpatterns": [], "path": path})
    [mounted] = namespace["urlpatterns"]
    assert mounted.urlconf_name.__name__ == "telnyx_ivr.urls"
    assert mounted.namespace == "telnyx_ivr"
