"""What an option's text becomes: each function turns one string into a value.

argparse calls them (a ``ValueError`` is its one-line usage error, naming the
flag or the environment variable); the result is what the settings field takes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from ..config import LOOPBACK

__all__ = [
    "text",
    "optional_text",
    "names",
    "port",
    "positive_int",
    "positive_float",
    "non_negative_int",
    "non_negative_float",
    "limit",
    "switch",
    "metrics_networks",
    "choice",
]

SWITCH = {"on": True, "true": True, "yes": True, "1": True}
SWITCH.update({"off": False, "false": False, "no": False, "0": False})


def text(value: str) -> str:
    """a string, as given"""
    return value


def optional_text(value: str) -> str | None:
    """a string; empty: none"""
    return value or None


def names(value: str) -> tuple[str, ...]:
    """a comma-separated list"""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def port(value: str) -> int:
    """a TCP port number from 0 to 65535"""
    number = int(value)
    if not 0 <= number <= 65535:
        raise ValueError(value)
    return number


def positive_int(value: str) -> int:
    """a whole number above 0"""
    number = int(value)
    if number <= 0:
        raise ValueError(value)
    return number


def non_negative_int(value: str) -> int:
    """a whole number, 0 or more"""
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


def positive_float(value: str) -> float:
    """a number of seconds above 0"""
    number = float(value)
    if not number > 0 or number == float("inf"):
        raise ValueError(value)
    return number


def non_negative_float(value: str) -> float:
    """a number of seconds, 0 or more"""
    number = float(value)
    if not 0 <= number < float("inf"):
        raise ValueError(value)
    return number


def limit(value: str) -> int | None:
    """a whole number, 0 for no limit"""
    return non_negative_int(value) or None


def switch(value: str) -> bool:
    """on or off"""
    return SWITCH[value.strip().lower()]  # KeyError: typed() reports it


def metrics_networks(value: str) -> tuple[str, ...]:
    """'on' (loopback), comma-separated networks, or empty (off)"""
    if value.strip().lower() == "on":
        return LOOPBACK
    networks = names(value)
    for network in networks:
        ipaddress.ip_network(network)  # ValueError: not a network
    return networks


def choice(*allowed: str) -> Callable[[str], str]:
    """A string that must be one of ``allowed``."""

    def one_of(value: str) -> str:
        if value not in allowed:
            raise ValueError(value)
        return value

    one_of.__doc__ = f"one of {', '.join(allowed)}"
    return one_of


def describe(kind: Callable[[str], Any]) -> str:
    """The first line of ``kind``'s docstring: what a value must be."""
    return (kind.__doc__ or "a value").strip().splitlines()[0]
