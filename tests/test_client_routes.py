"""The page's own routes: its icon, and its prefix without the trailing slash."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import server_url


async def fetch(http_client: Any, url: str) -> Any:
    return await http_client.fetch(url, follow_redirects=False, raise_error=False)


@pytest.mark.gen_test
async def test_the_page_declares_an_icon_that_is_served(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    page = await fetch(http_client, server_url(http_port) + "/")
    [icon] = re.findall(rb'<link rel="icon" href="([^"]+)"', page.body)
    response = await fetch(http_client, server_url(http_port) + "/" + icon.decode())
    assert response.code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.body.startswith(b"<svg")


@pytest.mark.gen_test
async def test_favicon_ico_redirects_to_the_icon_instead_of_a_404(
    http_server: Any, http_port: int, http_client: Any
) -> None:
    response = await fetch(http_client, server_url(http_port) + "/favicon.ico")
    assert response.code == 302
    assert response.headers["Location"] == "/client/favicon.svg"


@pytest.mark.parametrize("attach_options", [{"prefix": "/rt"}])
@pytest.mark.gen_test
async def test_the_prefix_without_its_slash_redirects_to_the_page_keeping_the_query(
    http_server: Any, http_port: int, http_client: Any, attach_options: Any
) -> None:
    response = await fetch(http_client, server_url(http_port) + "/rt?auth_flow=event")
    assert response.code == 302
    assert response.headers["Location"] == "/rt/?auth_flow=event"
    page = await fetch(http_client, server_url(http_port) + "/rt/")
    assert page.code == 200 and b'id="login-form"' in page.body
    icon = await fetch(http_client, server_url(http_port) + "/rt/favicon.ico")
    assert icon.headers["Location"] == "/rt/client/favicon.svg"


@pytest.mark.parametrize("attach_options", [{"prefix": "/rt"}])
@pytest.mark.gen_test
async def test_only_the_prefix_itself_redirects(
    http_server: Any, http_port: int, http_client: Any, attach_options: Any
) -> None:
    for path in ("/rtx", "/rt/nothing-here", "/"):
        response = await fetch(http_client, server_url(http_port) + path)
        assert response.code == 404, path
