"""What the bench's own baseline servers share: the Tornado app and its life.

Each baseline is what a Python user writes from python-socketio's
documentation, with every default kept. The one knob is permessage-deflate:
python-engineio's Tornado handler turns it on (``get_compression_options``
returns ``{}``), and ``--no-deflate`` swaps in a subclass that returns
``None``, so the bench can show what compression costs per socket.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

import socketio
import tornado.web

__all__ = ["parse_args", "serve", "socketio_handler"]


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="refuse permessage-deflate (python-engineio offers it by default)",
    )
    return parser.parse_args()


def socketio_handler(sio: Any, deflate: bool) -> type[tornado.web.RequestHandler]:
    """python-socketio's Tornado handler, with compression as asked."""
    handler: type[tornado.web.RequestHandler] = socketio.get_tornado_handler(sio)
    if deflate:
        return handler

    class NoDeflateHandler(handler):  # type: ignore[valid-type,misc]
        def get_compression_options(self) -> None:
            return None

    return NoDeflateHandler


async def serve(sio: Any, port: int, deflate: bool) -> None:
    """Serve ``sio`` on 127.0.0.1:``port`` until SIGTERM or SIGINT."""
    app = tornado.web.Application([(r"/socket.io/", socketio_handler(sio, deflate))])
    server = app.listen(port, address="127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await stop.wait()
    server.stop()
    await sio.shutdown()
