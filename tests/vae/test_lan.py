"""The classroom's address (vae.lan): which bindings serve the network, the address, what students type."""

import ipaddress

import pytest

from vae.lan import lan_address, serves_the_network, student_url


@pytest.mark.parametrize("bound, lan", [
    ("0.0.0.0", True), ("::", True), ("", True), (None, True), ("192.168.1.20", True), ("teacher.local", True),
    ("localhost", False), ("127.0.0.1", False), ("::1", False), (" localhost ", False),
])
def test_which_bindings_serve_the_network(bound, lan):
    assert serves_the_network(bound) is lan


def test_the_address_is_one_other_machines_can_reach_or_none():
    addr = lan_address()  # no packet is sent: on a machine without a network it is None
    if addr is not None:
        ip = ipaddress.ip_address(addr)
        assert ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def test_what_students_type():
    assert student_url("192.168.1.20", 8501) == "http://192.168.1.20:8501/"
    assert student_url("192.168.1.20", 8501, "en") == "http://192.168.1.20:8501/"
    assert student_url("192.168.1.20", 8502, "zh") == "http://192.168.1.20:8502/?lang=zh"
    assert student_url("10.0.0.5", 80, "zh", "/vae/") == "http://10.0.0.5:80/vae/?lang=zh"
