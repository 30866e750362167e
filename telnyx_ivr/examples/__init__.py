"""The example menus shipped with the app, found by name wherever the package is installed
(a checkout or site-packages): ``python manage.py ivr_import --example classic_tree``."""

from importlib import resources


def names():
    """The names of the shipped example menus, sorted: their file names without ``.json``."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".json")
    )


def read(name):
    """The bytes of the example menu ``name`` (one of ``names()``)."""
    if name not in names():
        raise LookupError(f"no example menu {name!r}; the examples are: {', '.join(names())}")
    return resources.files(__name__).joinpath(f"{name}.json").read_bytes()
