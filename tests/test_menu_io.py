"""ivr_export / ivr_import: byte-identical round trips, and bad files that change nothing."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from telnyx_ivr.models import AIParameterSchema, Menu, MenuVersion, Node, Prompt, Route

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"
EXAMPLE_FILES = {"classic-tree": "classic_tree.json", "ai-intake": "ai_intake.json"}

pytestmark = pytest.mark.django_db


def export(slug, *args):
    out = StringIO()
    call_command("ivr_export", slug, *args, stdout=out)
    return out.getvalue()


def import_file(path, *args):
    out, err = StringIO(), StringIO()
    call_command("ivr_import", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def import_failure(path, *args):
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("ivr_import", str(path), *args, stdout=StringIO(), stderr=err)
    return err.getvalue(), str(raised.value)


def row_counts():
    return {
        model.__name__: model.objects.count()
        for model in (Menu, Prompt, AIParameterSchema, Node, Route, MenuVersion)
    }


def snapshot():
    return row_counts(), {menu.slug: export(menu.slug) for menu in Menu.objects.all()}


@pytest.mark.parametrize(("slug", "filename"), EXAMPLE_FILES.items())
def test_export_import_export_is_byte_identical(slug, filename, tmp_path):
    source = (EXAMPLES / filename).read_text(encoding="utf-8")
    import_file(EXAMPLES / filename)
    first = export(slug)
    assert first == source
    # Import the export into a fresh database row set, then export again.
    Menu.objects.filter(slug=slug).update(entry_node=None)
    Menu.objects.filter(slug=slug).delete()
    exported = tmp_path / "menu.json"
    exported.write_text(first, encoding="utf-8")
    import_file(exported)
    assert export(slug) == first
    # Importing over the existing draft also keeps it identical.
    import_file(exported)
    assert export(slug) == first
    assert first.endswith("}\n")
    assert not first.endswith("\n\n")


def test_import_reports_created_and_replaced(tmp_path):
    out, _ = import_file(EXAMPLES / "classic_tree.json")
    assert "Created menu 'classic-tree'" in out
    out, _ = import_file(EXAMPLES / "classic_tree.json")
    assert "Replaced the draft of menu 'classic-tree'" in out
    assert Menu.objects.count() == 1
    nodes = json.loads((EXAMPLES / "classic_tree.json").read_text())["nodes"]
    assert Node.objects.filter(menu__slug="classic-tree").count() == len(nodes) == 12


def test_import_replaces_the_draft_by_slug(tmp_path):
    import_file(EXAMPLES / "classic_tree.json")
    doc = json.loads((EXAMPLES / "classic_tree.json").read_text())
    doc["prompts"]["goodbye"]["text"] = "Bye now."
    del doc["nodes"]["technical"]
    doc["nodes"]["support"]["routes"][1] = {
        "when": "digits",
        "digits": "2",
        "target": "node",
        "node": "operator",
    }
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(doc))
    import_file(path)
    menu = Menu.objects.get(slug="classic-tree")
    assert menu.prompts.get(key="goodbye").text == "Bye now."
    assert not menu.nodes.filter(key="technical").exists()
    assert json.loads(export("classic-tree")) == doc


def test_import_with_publish_publishes_and_activates():
    out, _ = import_file(EXAMPLES / "classic_tree.json", "--publish")
    menu = Menu.objects.get(slug="classic-tree")
    assert menu.is_active
    assert menu.live_version.number == 1
    assert "published version 1" in out
    assert export("classic-tree", "--live") == (EXAMPLES / "classic_tree.json").read_text()
    assert export("classic-tree", "--number", "1") == export("classic-tree", "--live")


def test_export_of_unknown_menu_or_version_fails():
    with pytest.raises(CommandError, match="No menu with slug 'nope'"):
        export("nope")
    import_file(EXAMPLES / "classic_tree.json")
    with pytest.raises(CommandError, match="has no live version"):
        export("classic-tree", "--live")
    with pytest.raises(CommandError, match="has no version 4"):
        export("classic-tree", "--number", "4")


# --- malformed files change nothing --------------------------------------------------------


@pytest.fixture
def loaded():
    """The database holds the classic example (published) before each bad import."""
    import_file(EXAMPLES / "classic_tree.json", "--publish")
    return snapshot()


def bad_copy(tmp_path, change, name="classic_tree.json"):
    doc = json.loads((EXAMPLES / name).read_text())
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    return path


def test_not_json_changes_nothing(tmp_path, loaded):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "telnyx-ivr-menu",\n  oops}')
    err, message = import_failure(path)
    assert "$: not valid JSON: Expecting property name enclosed in double quotes at line 2" in err
    assert "not imported" in message
    assert snapshot() == loaded


def test_not_utf8_or_missing_or_not_an_object(tmp_path, loaded):
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00junk")
    err, _ = import_failure(binary)
    assert "$: not UTF-8 text" in err
    err, _ = import_failure(tmp_path / "missing.json")
    assert "cannot read the file" in err
    array = tmp_path / "array.json"
    array.write_text("[1, 2]")
    err, _ = import_failure(array)
    assert "$: list is not of type 'object'" in err
    assert snapshot() == loaded


def test_schema_errors_name_their_json_path(tmp_path, loaded):
    def change(doc):
        doc["nodes"]["main"]["digits"]["maximum_digits"] = 200
        doc["nodes"]["main"]["routes"][0]["when"] = "pressed"
        doc["menu"]["numbers"] = ["555-1234"]
        doc["nodes"]["sales"]["extra"] = 1
        del doc["prompts"]["goodbye"]["payload_type"]

    err, _ = import_failure(bad_copy(tmp_path, change))
    assert "$.nodes.main.digits.maximum_digits: 200 is greater than the maximum of 128" in err
    assert "$.nodes.main.routes[0].when: 'pressed' is not one of" in err
    assert "$.menu.numbers[0]: '555-1234' does not match" in err
    assert "$.nodes.sales: Additional properties are not allowed ('extra' was unexpected)" in err
    assert "$.prompts.goodbye: 'payload_type' is a required property" in err
    assert snapshot() == loaded


def test_semantic_errors_name_node_and_field(tmp_path, loaded):
    def change(doc):
        doc["nodes"]["main"]["routes"][0]["node"] = "elsewhere"
        doc["nodes"]["support"]["routes"][0]["digits"] = "7"
        doc["prompts"]["goodbye"]["text"] = "Bye {{ nobody }}"

    err, _ = import_failure(bad_copy(tmp_path, change))
    assert "node 'main', field 'routes[0].node': 'elsewhere' is not a node of this menu" in err
    assert "node 'support', field 'routes[0].digits': '7' of '7' is not in valid digits" in err
    assert "node 'goodbye', field 'prompt': prompt 'goodbye' uses unknown variable 'nobody'" in err
    assert snapshot() == loaded


def test_import_claiming_a_taken_number_rolls_back(tmp_path, loaded):
    # Another active default menu: fails on the database-wide rule after rows were written.
    def change(doc):
        doc["menu"]["slug"] = "second-tree"

    err, _ = import_failure(bad_copy(tmp_path, change), "--publish")
    assert "field 'menu.is_default': active menu 'Classic tree" in err
    assert snapshot() == loaded
    assert not Menu.objects.filter(slug="second-tree").exists()


def test_one_bad_file_does_not_stop_the_good_ones(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("nope")
    err = StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command(
            "ivr_import", str(bad), str(EXAMPLES / "ai_intake.json"), stdout=StringIO(), stderr=err
        )
    assert Menu.objects.filter(slug="ai-intake").exists()
    assert "bad.json: not imported, nothing was changed" in err.getvalue()


def test_skip_existing_leaves_an_existing_menu_alone():
    import_file(EXAMPLES / "classic_tree.json", "--publish")
    Menu.objects.filter(slug="classic-tree").update(name="Edited in the admin")
    out, _ = import_file(EXAMPLES / "classic_tree.json", "--publish", "--skip-existing")
    assert "Skipped" in out
    menu = Menu.objects.get(slug="classic-tree")
    assert menu.name == "Edited in the admin"
    assert menu.versions.count() == 1


def test_shipped_examples_import_by_name_wherever_the_package_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing is read relative to the working directory
    out, err = StringIO(), StringIO()
    call_command(
        "ivr_import", "--example", "classic_tree", "--example", "ai_intake", "--publish",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert err.getvalue() == ""
    assert "Created menu 'classic-tree' from example classic_tree; published version 1" in (
        out.getvalue()
    )
    assert set(Menu.objects.filter(live_version__isnull=False).values_list("slug", flat=True)) == {
        "classic-tree",
        "ai-intake",
    }
    assert json.loads(export("classic-tree")) == json.loads(export("classic-tree", "--live"))


def test_an_unknown_example_name_lists_the_examples():
    with pytest.raises(
        CommandError, match=r"invalid choice: 'classic'.*'ai_intake', 'classic_tree'"
    ):
        call_command("ivr_import", "--example", "classic", stdout=StringIO(), stderr=StringIO())
    assert Menu.objects.count() == 0


def test_import_needs_a_file_or_an_example():
    with pytest.raises(CommandError, match=r"Name menu files to import, or --example NAME"):
        call_command("ivr_import", stdout=StringIO(), stderr=StringIO())


def test_the_example_names_are_the_shipped_files():
    from telnyx_ivr import examples

    assert examples.names() == sorted(path.stem for path in EXAMPLES.glob("*.json"))
    assert examples.read("ai_intake") == (EXAMPLES / "ai_intake.json").read_bytes()
    with pytest.raises(LookupError, match="the examples are: ai_intake, classic_tree"):
        examples.read("nope")
