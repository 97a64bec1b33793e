"""bench/instructions.py's two passes: a write is never sent twice (a replay would measure
the idempotency store, not the write), and a read journey has lines for every request."""

from __future__ import annotations

import random

from bench.instructions import _COLLECTED, _lines_for, _statement_label
from bench.journeys import Journey
from bench.sizes import Generated


def _journey(is_write: bool, count: int) -> Journey:
    lines = [
        ("POST" if is_write else "GET", f"/v1/things/{n}", "token", "", "") for n in range(count)
    ]
    return Journey("things", is_write, lambda _data, _rng: list(lines))


def test_each_write_is_sent_once_across_both_passes() -> None:
    passes = _lines_for(_journey(True, 25), Generated(), random.Random(1), needed=10, passes=2)
    sent = [line for lines in passes for line in lines]
    assert [len(lines) for lines in passes] == [10, 10]
    assert len(set(sent)) == len(sent) == 20


def test_too_few_writes_skip_the_journey() -> None:
    assert _lines_for(_journey(True, 19), Generated(), random.Random(1), needed=10, passes=2) == []


def test_reads_repeat_their_lines_to_fill_each_pass() -> None:
    passes = _lines_for(_journey(False, 3), Generated(), random.Random(1), needed=7, passes=2)
    assert [len(lines) for lines in passes] == [7, 7]
    assert {line[1] for line in passes[0]} == {"/v1/things/0", "/v1/things/1", "/v1/things/2"}


def test_the_instruction_total_is_read_from_callgrinds_summary() -> None:
    stderr = (
        "==41== Events    : Ir\n==41== Collected : 123456789\n"
        "==41==\n==41== I   refs:      123,456,789\n"
    )
    assert _COLLECTED.findall(stderr) == ["123456789"]


def test_statements_are_labelled_by_kind_and_first_table() -> None:
    assert _statement_label("SELECT a, b \nFROM ledger_entries WHERE x") == "read: ledger_entries"
    assert _statement_label("INSERT INTO bookings (a) VALUES (1)") == "INSERT INTO bookings"
    assert _statement_label("UPDATE idempotency_records SET state=1") == (
        "UPDATE idempotency_records SET"
    )
    assert _statement_label("SELECT 1") == "SELECT 1"
    assert _statement_label("SELECT a, (SELECT b FROM staff) AS s FROM offers") == "read: offers"
