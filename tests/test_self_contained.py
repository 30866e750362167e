"""The repository runs on its own: a fresh clone, with nothing beside it, has everything its
code and tests read. The Telnyx reference the project was specified from lives outside the
repository, so no file may name it; what tests need of it is copied into tests/fixtures/."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_FOLDERS = {".git", ".venv", "var", "node_modules", "test-artifacts", "dist", "build"}
TEXT_SUFFIXES = {".py", ".json", ".toml", ".yml", ".yaml", ".cfg", ".ini", ".html", ".js", ".css"}
# Built from pieces so this file does not name what it looks for.
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", r"/" + "work/", "shared/" + "reference"]))


def project_files():
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_FOLDERS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in {"Dockerfile", "run"}):
            yield relative, path


def test_no_file_the_project_runs_or_tests_names_a_folder_outside_it():
    offenders = [
        f"{relative}:{number}: {line.strip()}"
        for relative, path in project_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_the_scan_sees_the_package_tests_and_tooling():
    seen = {str(relative) for relative, _ in project_files()}
    assert {"telnyx_ivr/telnyx/commands.py", "tests/test_webhook_ingest.py", "dev.py"} <= seen
    assert ".ci/run" in seen


def test_the_copied_telnyx_payloads_say_where_they_came_from():
    folder = ROOT / "tests" / "fixtures" / "telnyx_payloads"
    readme = (folder / "README.md").read_text()
    payloads = sorted(path.name for path in folder.glob("*.json"))
    assert payloads, "no payloads copied"
    assert [name for name in payloads if f"`{name}`" not in readme] == []
