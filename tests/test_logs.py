"""Access-log redaction of query-string tokens."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from tornado_socketio_jwt import redacting_log_function
from tornado_socketio_jwt.web.access_log import redact_uri


def test_token_parameters_are_redacted_and_others_kept():
    uri = (
        "/socket.io/?EIO=4&token=abc.def.ghi&transport=polling"
        "&access_token=x&jwt=y&id_token=z"
    )
    assert redact_uri(uri) == (
        "/socket.io/?EIO=4&token=[REDACTED]&transport=polling"
        "&access_token=[REDACTED]&jwt=[REDACTED]&id_token=[REDACTED]"
    )


def test_parameter_names_that_merely_contain_token_are_kept():
    assert redact_uri("/x?mytoken=1&token_type=2") == "/x?mytoken=1&token_type=2"


def fake_handler(uri):
    request = SimpleNamespace(
        uri=uri,
        query=uri.split("?", 1)[1],
        method="GET",
        remote_ip="127.0.0.1",
        request_time=lambda: 0.001,
    )
    return SimpleNamespace(request=request, get_status=lambda: 200)


def test_inner_log_function_sees_the_redacted_request_and_the_original_is_untouched():
    seen = []
    handler = fake_handler("/socket.io/?token=secret-value&EIO=4")
    redacting_log_function(lambda h: seen.append((h.request.uri, h.get_status())))(
        handler
    )
    assert seen == [("/socket.io/?token=[REDACTED]&EIO=4", 200)]
    assert handler.request.uri == "/socket.io/?token=secret-value&EIO=4"


def test_default_log_line_has_status_method_and_redacted_uri(caplog):
    caplog.set_level(logging.INFO, logger="tornado.access")
    redacting_log_function()(fake_handler("/socket.io/?token=secret-value"))
    [record] = caplog.records
    assert record.getMessage().startswith(
        "200 GET /socket.io/?token=[REDACTED] (127.0.0.1)"
    )
    assert "secret-value" not in record.getMessage()


def test_percent_encoded_parameter_names_are_redacted_too():
    assert redact_uri("/s/?%74oken=abc&tok%65n=def&TOKEN=ghi") == (
        "/s/?%74oken=[REDACTED]&tok%65n=[REDACTED]&TOKEN=[REDACTED]"
    )


def test_uri_without_query_is_unchanged():
    assert redact_uri("/socket.io/") == "/socket.io/"
