"""What a node says about itself ([server] node_name): its name in /readyz and in its start-up
line; by default the host name."""
import socket

import requests


def test_readyz_and_the_start_line_name_the_node(make_server):
    named = make_server({"server": {"node_name": "gh-a.example_1"}})
    body = requests.get(named.url("/readyz"), timeout=30).json()
    assert body["ready"] is True and body["node"] == "gh-a.example_1"
    assert "node=gh-a.example_1 " in named.read_log()
    plain = make_server()
    assert requests.get(plain.url("/readyz"), timeout=30).json()["node"] == socket.gethostname()
