"""Which route each exit of a node took (the engine's own route choice), and the traffic of a
menu version made of the figures' node rows."""

import json

from telnyx_ivr import examples
from telnyx_ivr.analytics.traffic import menu_traffic, needs_results, route_of_exit


def definition(name):
    return json.loads(examples.read(name))


def test_each_exit_is_put_on_the_route_the_engine_follows():
    nodes = definition("classic_tree")["nodes"]
    main = nodes["main"]
    assert route_of_exit(main, "1") == 0
    assert route_of_exit(main, "0") == 2
    assert route_of_exit(main, "9") == 3  # repeat
    assert route_of_exit(main, "invalid") == 4
    assert route_of_exit(main, "no_input") == 5
    assert route_of_exit(main, "5") == 6  # a key no route takes: the default route
    assert route_of_exit(main, "hangup") is None
    assert route_of_exit(main, "error") is None
    assert route_of_exit(nodes["sales"], "transferred") is None

    ai = definition("ai_intake")["nodes"]
    intake = ai["intake"]
    assert needs_results(intake)
    assert not needs_results(ai["fallback"])
    assert route_of_exit(intake, "valid", result={"city": "Chicago"}) == 0
    assert route_of_exit(intake, "valid", result={"city": "Boston"}) == 1
    assert route_of_exit(intake, "valid") is None  # no result: which valid route is unknown
    assert route_of_exit(intake, "invalid") == 2
    assert route_of_exit(ai["local"], "completed") == 0
    assert route_of_exit(ai["local"], "error") == 1


def test_valid_answers_are_put_on_the_routes_they_took_and_the_rest_is_counted():
    document = definition("ai_intake")
    rows = [
        {
            "key": "intake",
            "visits": 5,
            "exits": {"valid": 4, "invalid": 1},
            # As summed: two answers to the local office (route 0), one to the other (1).
            "valid_routes": {"0": 2, "1": 1},
        }
    ]
    traffic = menu_traffic(document, rows)
    assert traffic.edges[("intake", 0)].count == 2
    assert traffic.edges[("intake", 1)].count == 1
    assert traffic.edges[("intake", 2)].count == 1  # the invalid answer
    assert traffic.edges[("intake", 0)].share == 2 / 5
    assert traffic.edges[("intake", 0)].exits == ["valid"]
    assert traffic.unsplit == 1  # a fourth valid answer summed without its route


def test_a_route_index_the_version_does_not_have_is_not_drawn():
    rows = [{"key": "intake", "visits": 2, "exits": {"valid": 2}, "valid_routes": {"0": 1, "9": 1}}]
    traffic = menu_traffic(definition("ai_intake"), rows)
    assert traffic.edges[("intake", 0)].count == 1
    assert ("intake", 9) not in traffic.edges
    assert traffic.unsplit == 1


def test_the_worst_drop_off_and_the_busiest_path():
    document = definition("classic_tree")
    rows = [
        {"key": "main", "visits": 10, "exits": {"2": 7, "1": 2, "hangup": 1}},
        {"key": "support", "visits": 7, "exits": {"2": 4, "hangup": 3}},
        {"key": "technical", "visits": 4, "exits": {"transferred": 3, "hangup": 1}},
    ]
    traffic = menu_traffic(document, rows)
    assert traffic.busiest_path == [("main", 1), ("support", 1)]
    # 3 of 7 hung up at support: more of its visits than at technical (1 of 4) or main.
    assert traffic.worst_node == "support"
    assert traffic.nodes["support"].drop_off == 3 / 7
    assert traffic.nodes["billing"].drop_off is None  # never visited
