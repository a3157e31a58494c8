"""Benchmark: python-socketio's JSON, the standard library against orjson.

In one process, with no network: decode a ``whoami`` EVENT packet and encode
its ACK (the bench's claims) with ``socketio.packet.Packet``, first through
python-engineio's ``json`` (python-socketio's default), then through
``tornado_socketio_jwt.fast_json``. The servers section measures the same
switch end to end, where the machine's noise is larger than the difference.
One section of ``make bench``; alone: ``python bench/json_codec.py``.
"""

from __future__ import annotations

import time
from typing import Any

import socketio.packet
from engineio import json as engineio_json

from tornado_socketio_jwt import fast_json

CLAIMS = {
    "email": "user1@example.com",
    "first_name": "Bench",
    "last_name": "User",
    "auth_time": 1700000000,
    "sub": "2",
    "iat": 1700000000,
    "exp": 1700018000,
    "jti": "0" * 32,
    "iss": "tornado-socketio-jwt",
}
CODECS = (("engineio.json (standard library)", engineio_json), ("orjson", fast_json))


def _cycle() -> None:
    socketio.packet.Packet(encoded_packet='212["whoami"]')
    socketio.packet.Packet(socketio.packet.ACK, data=[CLAIMS], id=12).encode()


def measure(cycles: int = 20_000, repeat: int = 5) -> dict[str, float]:
    """Best microseconds per decode + encode, per codec (orjson missing: skipped)."""
    figures: dict[str, float] = {}
    saved: Any = socketio.packet.Packet.json
    try:
        for name, codec in CODECS:
            if codec is fast_json and fast_json.socketio_json() is None:
                continue
            socketio.packet.Packet.json = codec
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                for _ in range(cycles):
                    _cycle()
                best = min(best, (time.perf_counter() - started) / cycles)
            figures[name] = best * 1e6
    finally:
        socketio.packet.Packet.json = saved
    return figures


def report(figures: dict[str, float]) -> str:
    lines = [
        "Decode a whoami EVENT and encode its ACK (best of 5 x 20,000, us):",
        "",
        "| codec | us per round trip's packets |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {us:.1f} |" for name, us in figures.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(measure()))
