"""Authorization rules per namespace and per event, for decorator-style handlers and
class-based namespaces alike."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import socketio
import tornado.web

from tests.conftest import stop
from tests.support import connected_client, refusal, server_url
from tornado_socketio_jwt import (
    AuthNamespace,
    AuthSettings,
    ForbiddenError,
    Requirement,
    attach_jwt_auth,
    authorize_event,
    authorize_namespace,
    requires,
)
from tornado_socketio_jwt.grants import roles_of, scopes_of

FORBIDDEN = refusal(ForbiddenError)
ROLES_CLAIM = "https://example.com/roles"


# -- unit: where scopes and roles come from ---------------------------------


def test_scopes_come_from_the_scope_string_and_the_scp_and_permissions_lists() -> None:
    claims = {
        "scope": "openid read:messages",
        "scp": ["write:messages"],
        "permissions": ["delete:messages", 7],
    }
    assert scopes_of(claims) == {
        "openid",
        "read:messages",
        "write:messages",
        "delete:messages",
    }


def test_roles_come_from_the_configured_claim() -> None:
    claims = {ROLES_CLAIM: ["admin"], "roles": ["user"]}
    assert roles_of(claims, ROLES_CLAIM) == {"admin"}
    assert roles_of(claims) == {"user"}


def test_requirement_needs_every_scope_and_any_one_role() -> None:
    rule = Requirement(scopes=("a", "b"), roles=("admin", "moderator"))
    assert rule.allows({"scope": "a b", "roles": ["moderator"]})
    assert not rule.allows({"scope": "a", "roles": ["moderator"]})
    assert not rule.allows({"scope": "a b", "roles": ["user"]})
    assert not rule.allows(None)


def test_requirement_refuses_a_string_where_a_tuple_belongs() -> None:
    with pytest.raises(TypeError):
        Requirement(scopes="read:messages")  # type: ignore[arg-type]


class ModerationNamespace(AuthNamespace):
    """Class style: a role to join, a scope per event."""

    requirement = Requirement(roles=("moderator",), roles_claim=ROLES_CLAIM)

    def __init__(self, namespace: str, ran: list[Any]) -> None:
        super().__init__(namespace)
        self.ran = ran

    @requires(scopes=("ban:users",))
    async def on_ban(self, sid: str, data: Any) -> dict[str, Any]:
        self.ran.append(data)
        return {"banned": data["user"]}


# -- decorator style ---------------------------------------------------------


@pytest.fixture
def ran() -> list[Any]:
    return []


@pytest.fixture
def app(secret: str, io_loop: Any, ran: list[Any]) -> Any:
    sio = socketio.AsyncServer(async_mode="tornado")
    authorize_namespace(sio, "/admin", roles=("admin",))

    @authorize_event(sio, "purge", scopes=("delete:messages",))
    async def purge(sid: str, data: Any) -> dict[str, Any]:
        ran.append(data)
        return {"ok": True}

    sio.register_namespace(ModerationNamespace("/moderation", ran))
    specs = attach_jwt_auth(
        sio,
        AuthSettings(secret=secret, namespaces=("/", "/admin"), routes=("socketio",)),
    )
    yield tornado.web.Application(specs)
    io_loop.run_sync(lambda: stop(sio))


@pytest.mark.gen_test
async def test_namespace_admits_a_token_with_the_required_role(
    http_server: Any, http_port: int, make_token: Any
) -> None:
    token = make_token(roles=["admin"])
    async with connected_client(
        server_url(http_port), auth={"token": token}, namespaces=["/admin"]
    ) as c:
        assert c.connected and not c.connect_errors


@pytest.mark.gen_test
async def test_namespace_refuses_a_token_without_the_role_with_forbidden(
    http_server: Any, http_port: int, make_token: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = make_token(roles=["user"])
    with caplog.at_level(logging.INFO, logger="tornado_socketio_jwt"):
        async with connected_client(
            server_url(http_port), auth={"token": token}, namespaces=["/admin"]
        ) as c:
            assert not c.connected
    assert c.connect_errors[0]["data"] == FORBIDDEN
    assert any("code=forbidden" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text


@pytest.mark.gen_test
async def test_event_runs_for_a_token_with_the_required_scope(
    http_server: Any, http_port: int, make_token: Any, ran: list[Any]
) -> None:
    token = make_token(permissions=["delete:messages"])
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        answer = await c.client.call("purge", {"room": "r"}, timeout=5)
    assert (answer, ran) == ({"ok": True}, [{"room": "r"}])


@pytest.mark.gen_test
async def test_event_without_the_scope_gets_a_forbidden_ack_and_never_runs(
    http_server: Any, http_port: int, make_token: Any, ran: list[Any]
) -> None:
    token = make_token(scope="read:messages")
    async with connected_client(server_url(http_port), auth={"token": token}) as c:
        answer = await c.client.call("purge", {"room": "r"}, timeout=5)
    assert (answer, ran) == ({"ok": False, **FORBIDDEN}, [])


# -- class-based namespaces --------------------------------------------------


def moderator(make_token: Any, **claims: Any) -> str:
    return str(make_token(**{ROLES_CLAIM: ["moderator"]}, **claims))


@pytest.mark.gen_test
async def test_class_namespace_refuses_a_token_without_its_role_with_forbidden(
    http_server: Any, http_port: int, make_token: Any
) -> None:
    token = make_token(
        roles=["moderator"]
    )  # the wrong claim: roles live in ROLES_CLAIM
    async with connected_client(
        server_url(http_port), auth={"token": token}, namespaces=["/moderation"]
    ) as c:
        assert not c.connected
    assert c.connect_errors[0]["data"] == FORBIDDEN


@pytest.mark.gen_test
async def test_class_namespace_event_runs_for_a_token_with_the_scope(
    http_server: Any, http_port: int, make_token: Any, ran: list[Any]
) -> None:
    token = moderator(make_token, scp=["ban:users"])
    async with connected_client(
        server_url(http_port), auth={"token": token}, namespaces=["/moderation"]
    ) as c:
        answer = await c.client.call(
            "ban", {"user": "7"}, namespace="/moderation", timeout=5
        )
    assert (answer, ran) == ({"banned": "7"}, [{"user": "7"}])


@pytest.mark.gen_test
async def test_class_namespace_event_without_the_scope_is_forbidden_and_never_runs(
    http_server: Any, http_port: int, make_token: Any, ran: list[Any]
) -> None:
    token = moderator(make_token, scope="read:messages")
    async with connected_client(
        server_url(http_port), auth={"token": token}, namespaces=["/moderation"]
    ) as c:
        answer = await c.client.call(
            "ban", {"user": "7"}, namespace="/moderation", timeout=5
        )
    assert (answer, ran) == ({"ok": False, **FORBIDDEN}, [])
