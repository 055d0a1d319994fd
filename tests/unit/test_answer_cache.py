"""The answer cache the Ouranos and Catena-X read paths share: served only while nothing relevant was committed
since the read, within its time-to-live, and within its size bounds."""

from __future__ import annotations

import time

from connector.storage import write_generation
from connector.storage.answer_cache import AnswerCache


def test_an_answer_is_served_until_a_write_is_committed():
    cache: AnswerCache[bytes] = AnswerCache(ttl=60)
    read = write_generation.generation()
    cache.put("k", b"answer", read, 6)
    assert cache.get("k") == b"answer"
    write_generation.bump()
    assert cache.get("k") is None


def test_an_answer_read_before_a_write_is_not_kept():
    cache: AnswerCache[bytes] = AnswerCache(ttl=60)
    read = write_generation.generation()
    write_generation.bump()  # committed while the answer was being read
    cache.put("k", b"stale", read, 5)
    assert cache.get("k") is None


def test_ttl_zero_disables_and_entries_expire(monkeypatch):
    off: AnswerCache[bytes] = AnswerCache(ttl=0)
    off.put("k", b"x", write_generation.generation(), 1)
    assert off.get("k") is None
    cache: AnswerCache[bytes] = AnswerCache(ttl=5)
    cache.put("k", b"x", write_generation.generation(), 1)
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 6)
    assert cache.get("k") is None


def test_the_oldest_entries_go_first_past_the_bounds():
    cache: AnswerCache[bytes] = AnswerCache(ttl=60, max_entries=2, max_bytes=400)
    gen = write_generation.generation()
    for key in ("a", "b", "c"):
        cache.put(key, key.encode(), gen, 1)
    assert cache.get("a") is None and cache.get("b") == b"b" and cache.get("c") == b"c"
    by_size: AnswerCache[bytes] = AnswerCache(ttl=60, max_entries=100, max_bytes=400)
    by_size.put("big", b"too big", gen, 101)  # over a quarter of max_bytes: never kept
    assert by_size.get("big") is None
    for key in ("d", "e", "f", "g", "h"):
        by_size.put(key, key.encode(), gen, 100)  # the fifth would make 500 bytes: the oldest goes
    assert by_size.get("d") is None and all(by_size.get(k) == k.encode() for k in "efgh")


def test_entries_past_a_third_of_their_ttl_are_confirmed_for_another(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache: AnswerCache[bytes] = AnswerCache(ttl=6)
    assert not cache.refresh_due()  # nothing kept: nothing to confirm
    read = write_generation.generation()
    answer = b"answer"
    cache.put("k", answer, read, 6)
    assert cache.stale() == [] and not cache.refresh_due()
    clock[0] += 1.0  # a sixth of the TTL: due once, nothing stale yet
    assert cache.refresh_due() and not cache.refresh_due() and cache.stale() == []
    clock[0] += 1.5  # 2.5 s old: past a third
    assert cache.stale() == [("k", answer)]
    began = clock[0]
    cache.confirm("k", answer, write_generation.generation(), began)
    clock[0] += 5.0  # 7.5 s after the first read, 5 s after the confirming one
    assert cache.get("k") == answer
    clock[0] += 1.0
    assert cache.get("k") is None  # confirmed for one TTL only


def test_a_confirmation_after_a_write_or_a_newer_answer_changes_nothing(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache: AnswerCache[bytes] = AnswerCache(ttl=6)
    old = b"old"
    cache.put("k", old, write_generation.generation(), 3)
    clock[0] += 3
    read = write_generation.generation()
    write_generation.bump()  # committed while the confirming read ran
    cache.confirm("k", old, read, clock[0])
    assert cache.get("k") is None and cache.stale() == []
    new = b"new"
    cache.put("k", new, write_generation.generation(), 3)
    clock[0] += 3
    cache.confirm("k", old, write_generation.generation(), clock[0])  # the value checked is not the one kept
    clock[0] += 3.5
    assert cache.get("k") is None
