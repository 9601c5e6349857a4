"""Malformed socket events get a specific refusal ack, count against the rate limit, and
leave no traceback (app/realtime/payloads.py, docs/realtime.md)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app import realtime
from app.extensions import db
from app.modules.chat.models import Message
from app.realtime import limits
from tests.chat.conftest import new_client_id, send
from tests.realtime.conftest import _fresh

DEEP = 1000


def _code(ack) -> str | None:
    return ack["error"]["code"] if ack and not ack.get("ok") else None


def _payload(exchange, body):
    return {"channel_id": exchange.channel.id, "client_id": new_client_id(), "body": body}


def emit_raw(sock, data: str):
    """Sends an EVENT packet with its JSON written by hand, as any client may, and returns
    the ack: what the test client's own encoder could not produce (too deep to encode)."""
    sock.callback_counter += 1
    packet_text = f"2{sock.callback_counter}{data}"
    _fresh(sock.socketio.server._handle_eio_message, sock.eio_sid, packet_text)
    ack, sock.acks = sock.acks, None
    assert ack is not None, "no ack"
    return ack["args"][0]


def _deep_chat_send(depth: int = DEEP) -> str:
    return '["chat_send",' + "[" * depth + "]" * depth + "]"


def _no_tracebacks(caplog):
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]


def _no_messages_stored():
    assert db.session.scalar(select(db.func.count()).select_from(Message)) == 0


@pytest.mark.parametrize(
    "body",
    ["lone \ud800 surrogate", "NUL\x00in the body", "\udfff"],
    ids=["lone-surrogate", "nul", "low-surrogate"],
)
def test_unstorable_strings_are_bad_payload(exchange, browsers, caplog, body):
    ana = browsers.connect_as(exchange.ana)
    with caplog.at_level(logging.INFO):
        ack = ana.emit("chat_send", _payload(exchange, body), callback=True)
    assert _code(ack) == "bad_payload" and ack["error"]["message"]
    _no_tracebacks(caplog)
    _no_messages_stored()
    assert send(ana, exchange.channel.id, "still fine")["ok"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("extra",), id="two-arguments"),
        pytest.param(("a", "b", "c"), id="four-arguments"),
    ],
)
def test_wrong_number_of_arguments_is_bad_payload(exchange, browsers, caplog, args):
    ana = browsers.connect_as(exchange.ana)
    with caplog.at_level(logging.INFO):
        ack = ana.emit("chat_send", _payload(exchange, "hi"), *args, callback=True)
    assert _code(ack) == "bad_payload"
    _no_tracebacks(caplog)
    _no_messages_stored()


def test_binary_argument_is_bad_payload(exchange, browsers, caplog):
    ana = browsers.connect_as(exchange.ana)
    with caplog.at_level(logging.INFO):
        ack = ana.emit("chat_send", {**_payload(exchange, "x"), "body": b"bytes"}, callback=True)
    assert _code(ack) == "bad_payload"
    _no_tracebacks(caplog)
    _no_messages_stored()


def test_nesting_beyond_the_limit_is_bad_payload(exchange, browsers, caplog):
    ana = browsers.connect_as(exchange.ana)
    nested = []
    for _ in range(40):
        nested = [nested]
    with caplog.at_level(logging.INFO):
        ack = ana.emit("chat_send", {**_payload(exchange, "x"), "reply_to": nested}, callback=True)
    assert _code(ack) == "bad_payload"
    _no_tracebacks(caplog)


@pytest.mark.parametrize("depth", [DEEP, 50_000])
def test_too_deep_to_decode_is_bad_payload_without_traceback(exchange, browsers, caplog, depth):
    ana = browsers.connect_as(exchange.ana)
    with caplog.at_level(logging.INFO):
        ack = emit_raw(ana, _deep_chat_send(depth))
    assert _code(ack) == "bad_payload" and ack["error"]["message"]
    _no_tracebacks(caplog)
    assert not [r for r in caplog.records if "Recursion" in r.getMessage()]
    assert ana.is_connected()
    assert send(ana, exchange.channel.id, "still connected")["ok"]


@pytest.mark.parametrize(
    "data",
    ['["chat_send",' + "9" * 5000 + "]", '["chat_send",{"body":"unterminated]', '["chat_send",{"body":"x"}}'],
    ids=["huge-integer", "unterminated-string", "broken-json"],
)
def test_undecodable_json_is_bad_payload_without_traceback(exchange, browsers, caplog, data):
    ana = browsers.connect_as(exchange.ana)
    with caplog.at_level(logging.INFO):
        ack = emit_raw(ana, data)
    assert _code(ack) == "bad_payload"
    _no_tracebacks(caplog)
    assert ana.is_connected()


def test_unknown_event_is_answered(exchange, browsers, caplog):
    ana = browsers.connect_as(exchange.ana)
    with caplog.at_level(logging.INFO):
        ack = ana.emit("chat_sned", _payload(exchange, "typo"), callback=True)
    assert _code(ack) == "unknown_event" and ack["error"]["message"]
    _no_tracebacks(caplog)


@pytest.fixture
def frozen_clock(monkeypatch):
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=lambda: clock.now))
    return clock


def test_malformed_events_count_against_the_rate_limit(app, exchange, browsers, frozen_clock, caplog, monkeypatch):
    # The refusal log's own limit, started on the frozen clock (one line a second, ten at once).
    monkeypatch.setattr(realtime, "_refusal_log", limits.TokenBuckets(1, 10))
    ana = browsers.connect_as(exchange.ana)
    burst = app.config["SOCKET_EVENT_BURST"]
    with caplog.at_level(logging.INFO):
        codes = [_code(emit_raw(ana, _deep_chat_send())) for _ in range(burst)]
        assert codes == ["bad_payload"] * burst
        assert _code(emit_raw(ana, _deep_chat_send())) == "rate_limited"
        assert _code(ana.emit("no_such_event", callback=True)) == "rate_limited"
        assert _code(send(ana, exchange.channel.id, "blocked")) == "rate_limited"
        # Many more refusals: the log gets a handful of lines, not one (or a traceback) each.
        for _ in range(200):
            emit_raw(ana, _deep_chat_send())
    _no_tracebacks(caplog)
    refusal_lines = [r for r in caplog.records if "refused" in r.getMessage()]
    assert 0 < len(refusal_lines) <= 10
