"""Malformed asset paths are the client's mistake: 4xx, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support import server_url


@pytest.mark.parametrize(
    "path", ["/client/%00", "/client/app%00.js", "/client/vendor/%00x"]
)
@pytest.mark.gen_test
async def test_a_nul_byte_in_a_client_path_is_400_without_a_traceback(
    http_server: Any, http_port: int, http_client: Any, caplog: Any, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await http_client.fetch(server_url(http_port) + path, raise_error=False)

    assert response.code == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.gen_test
async def test_the_client_assets_are_still_served(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    response = await http_client.fetch(server_url(http_port) + "/client/app.js")
    assert response.code == 200
