"""orjson behind the interface python-socketio's ``json=`` option takes.

``socketio.AsyncServer(json=M)`` calls ``M.dumps(obj, separators=...)``, which
must return ``str``, and ``M.loads(text)``; it sets ``M`` on python-socketio's
and python-engineio's packet classes, so for every server in the process.
orjson's ``dumps`` returns ``bytes`` and takes no ``separators`` (its output is
already compact): :func:`dumps` and :func:`loads` adapt it, and fall back to
the standard library where orjson refuses what ``json`` accepts (integers past
64 bits written, lone surrogates read, ``parse_int`` and other keyword
arguments). One difference is left: orjson reads an integer past 64 bits as
a float (no JavaScript client can send one). :func:`socketio_json`
returns this module when orjson imports, else ``None``: python-socketio's own
default, so a platform without orjson only loses speed.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

orjson: ModuleType | None
try:
    import orjson
except ImportError:  # an optional accelerator (the ``speed`` extra)
    orjson = None

__all__ = ["dumps", "loads", "socketio_json"]


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON text of ``obj``; ``kwargs`` (``separators``) matter only to the fallback."""
    if orjson is not None:
        try:
            # Non-string keys as the standard library writes them ({1: x} -> "1").
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # an integer past 64 bits, or a type orjson lacks
            pass
    return json.dumps(obj, **kwargs)


def loads(text: str | bytes, **kwargs: Any) -> Any:
    """The value of JSON ``text``; raises ``ValueError`` (``JSONDecodeError``)."""
    if orjson is None or kwargs:
        return json.loads(text, **kwargs)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses what the standard library reads, such as a lone
        # surrogate ("\ud83d", which a browser's JSON.stringify writes for half
        # an emoji); the standard library decides, and raises on bad JSON.
        return json.loads(text)


def socketio_json() -> ModuleType | None:
    """This module for ``AsyncServer(json=...)`` with orjson, else ``None``."""
    return sys.modules[__name__] if orjson is not None else None
