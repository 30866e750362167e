"""Which published menu version answers an incoming call."""

from ..models import Menu


def find_menu_version(*, to, connection_id):
    """The MenuVersion that should answer a call to ``to`` on ``connection_id``, or None.

    Among active menus with a live version, by what that live version claims: the one whose
    ``numbers`` include ``to``, else one whose ``connection_ids`` include ``connection_id``,
    else the default menu. Validation keeps these claims unique among active menus; should two
    menus still claim the same, the older (lower id) wins.
    """
    menus = (
        Menu.objects.filter(is_active=True, live_version__isnull=False)
        .select_related("live_version")
        .order_by("pk")
    )
    versions = [menu.live_version for menu in menus]
    for matches in (
        lambda claims: bool(to) and to in claims["numbers"],
        lambda claims: bool(connection_id) and connection_id in claims["connection_ids"],
        lambda claims: claims["is_default"],
    ):
        for version in versions:
            if matches(version.definition["menu"]):
                return version
    return None
