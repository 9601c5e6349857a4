"""The presence tables: in memory for one process, in Redis for several."""

from __future__ import annotations

import pytest

from app.realtime.limits import TokenBuckets, payload_size
from app.realtime.presence import MemoryPresence, RedisPresence
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
def presence(request):
    if request.param == "memory":
        return MemoryPresence()
    return RedisPresence(REDIS_URL, request.getfixturevalue("redis_namespace"))


def test_counts_sockets_per_user(presence):
    assert presence.add(1, "a") == 1
    assert presence.add(1, "b") == 2
    assert presence.add(1, "b") == 2  # the same socket twice is one socket
    assert presence.add(2, "c") == 1
    assert presence.count(1) == 2
    assert presence.online([1, 2, 3]) == {1, 2}
    assert presence.remove(1, "a") == 1
    assert presence.remove(1, "b") == 0
    assert presence.remove(1, "b") == 0
    assert presence.online([1, 2, 3]) == {2}
    assert presence.online([]) == set()


def test_sockets_are_listed_oldest_first(presence):
    """The order in which a user's sockets give way when they open one too many."""
    for sid in ("c", "a", "b"):
        presence.add(1, sid)
    presence.add(1, "c")  # counted again, it keeps its first place
    assert presence.sids(1) == ["c", "a", "b"]
    presence.remove(1, "a")
    assert presence.sids(1) == ["c", "b"]
    assert presence.sids(2) == []


def test_processes_share_the_redis_table(redis_namespace):
    first, second = RedisPresence(REDIS_URL, redis_namespace), RedisPresence(REDIS_URL, redis_namespace)
    assert first.add(1, "a") == 1
    assert second.add(1, "b") == 2
    assert second.online([1]) == {1}
    assert first.remove(1, "a") == 1
    assert first.online([1]) == {1}


def test_sockets_of_a_dead_process_stop_counting(redis_namespace):
    import redis

    alive, crashed = RedisPresence(REDIS_URL, redis_namespace), RedisPresence(REDIS_URL, redis_namespace)
    alive.add(1, "kept")
    crashed.add(1, "ghost")
    crashed.add(2, "ghost-only")
    assert alive.count(1) == 2

    # The crashed process's heartbeat runs out; its disconnect handlers never ran.
    connection = redis.Redis.from_url(REDIS_URL)
    connection.delete(f"{redis_namespace}:presence:process:{crashed.process_id}")
    assert alive.count(1) == 1
    assert alive.online([1, 2]) == {1}
    assert connection.hkeys(f"{redis_namespace}:presence:1") == [f"{alive.process_id}:kept".encode()]
    assert not connection.exists(f"{redis_namespace}:presence:2")
    connection.close()


def test_heartbeat_keeps_a_process_alive(redis_namespace):
    import redis

    presence = RedisPresence(REDIS_URL, redis_namespace, process_ttl=30)
    presence.add(1, "a")
    connection = redis.Redis.from_url(REDIS_URL)
    key = f"{redis_namespace}:presence:process:{presence.process_id}"
    connection.expire(key, 1)
    presence.beat()
    assert connection.ttl(key) > 1
    connection.close()


def test_token_bucket_allows_a_burst_then_the_rate():
    buckets = TokenBuckets(rate_per_second=2, burst=3)
    assert [buckets.allow(1) for _ in range(4)] == [True, True, True, False]
    assert buckets.allow(2) is True  # per key


def test_payload_size_is_the_json_size_on_the_wire():
    assert payload_size(({"a": "é"},)) == len('[{"a":"\\u00e9"}]')
    assert payload_size((object(),)) > 0
