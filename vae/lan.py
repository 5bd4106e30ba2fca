"""The address at which the other machines of a local network (a classroom's Wi-Fi) reach this one.

Nothing is sent: "connecting" a UDP socket only asks the operating system which interface it would
route through, and that interface's address is the one the students' phones can reach.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlencode

#: Addresses a server listens on when it serves every interface (``--server.address 0.0.0.0``).
ALL_INTERFACES = ("0.0.0.0", "::", "")
#: A private address no packet is sent to: only the route towards it is looked up.
_PROBE = ("10.254.254.254", 9)


def serves_the_network(bound: str | None) -> bool:
    """Whether a server bound to ``bound`` (Streamlit's ``server.address``; unset: every interface)
    answers other machines."""
    b = (bound or "").strip()
    if b in ALL_INTERFACES:
        return True
    try:
        return not ipaddress.ip_address(b).is_loopback
    except ValueError:
        return b.lower() != "localhost"  # a host name: other machines reach it by that name


def _usable(addr: str) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def lan_address() -> str | None:
    """This machine's IPv4 address on its local network, or None when it is on none (no route out)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_PROBE)
            addr = s.getsockname()[0]
        if _usable(addr):
            return addr
    except OSError:
        pass
    try:  # no default route: an address of the host's own name, if it has one that is not loopback
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return None
    return next((i[4][0] for i in infos if _usable(i[4][0])), None)


def student_url(host: str, port: int, lang: str | None = None, base_path: str = "") -> str:
    """What a student types: ``http://HOST:PORT/`` (``?lang=`` where the class is not in English)."""
    path = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    query = "?" + urlencode({"lang": lang}) if lang and lang != "en" else ""
    return f"http://{host}:{int(port)}{path}{query}"
