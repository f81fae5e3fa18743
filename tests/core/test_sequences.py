"""Numbering sequences: placeholders, the counter restarting per year or month, previews,
pattern checks, audited changes, and numbers never repeating when drawn at once."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from tuoke.core import sequences
from tuoke.core.audit import trail_of
from tuoke.core.models import Sequence

PATTERN = "HT{yyyy}{mm}-{seq:04}"


def _draw(on, key="contract", pattern=PATTERN):
    return sequences.next_value(key, default_pattern=pattern, on=on)


def _messages(exc):
    return exc.message_dict


def test_it_renders_every_placeholder():
    assert sequences.render("{yyyy}{yy}{mm}{dd}-{seq}-{seq:06}", on=date(2026, 3, 7), value=42) == (
        "2026260307-42-000042"
    )


def test_it_counts_up_from_one_with_the_default_pattern(db):
    assert _draw(date(2026, 5, 3)) == "HT202605-0001"
    assert _draw(date(2026, 5, 4)) == "HT202605-0002"
    # Yearly: the month changes in the number, the counter goes on.
    assert _draw(date(2026, 6, 1)) == "HT202606-0003"
    row = Sequence.objects.get(key="contract")
    assert (row.pattern, row.reset, row.period, row.last_value) == (PATTERN, "yearly", "2026", 3)


def test_it_restarts_the_counter_every_year(db):
    assert _draw(date(2026, 12, 31)) == "HT202612-0001"
    assert _draw(date(2026, 12, 31)) == "HT202612-0002"
    assert _draw(date(2027, 1, 1)) == "HT202701-0001"


def test_it_restarts_monthly_or_never_as_set(admin_user):
    sequences.set_pattern("order", pattern="SO{yyyy}{mm}{seq:03}", reset="monthly", by=admin_user)
    assert _draw(date(2026, 1, 31), key="order") == "SO202601001"
    assert _draw(date(2026, 2, 1), key="order") == "SO202602001"
    sequences.set_pattern("invoice", pattern="FP-{seq}", reset="never", by=admin_user)
    assert _draw(date(2026, 12, 31), key="invoice") == "FP-1"
    assert _draw(date(2027, 1, 1), key="invoice") == "FP-2"


def test_a_rolled_back_draw_gives_its_number_back(db):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _draw(date(2026, 5, 3))
        raise RuntimeError
    assert _draw(date(2026, 5, 3)) == "HT202605-0001"


def test_the_preview_shows_a_number_without_drawing_it(db):
    assert sequences.preview("C-{yy}{mm}{dd}-{seq:05}", on=date(2026, 3, 7), value=12) == (
        "C-260307-00012"
    )
    assert not Sequence.objects.exists()


@pytest.mark.parametrize(
    ("pattern", "reset", "message"),
    [
        ("", "never", "Enter a numbering pattern."),
        ("HT{yyyy}", "yearly", "The pattern must contain the counter once"),
        ("HT{seq}{seq:04}", "never", "The pattern must contain the counter once"),
        ("HT{yyyy}{month}{seq}", "yearly", "Unknown placeholder {month}"),
        ("HT{seq:4}", "never", "Unknown placeholder {seq:4}"),
        ("HT{yyyy{seq}", "yearly", "Unknown placeholder"),
        ("HT-{seq}", "yearly", "needs the year in the pattern"),
        ("HT{yyyy}-{seq}", "monthly", "needs the year and the month"),
        ("X" * 35 + "{seq:04}", "never", "longer than 40 characters"),
    ],
)
def test_it_refuses_a_bad_pattern(admin_user, pattern, reset, message):
    with pytest.raises(ValidationError) as caught:
        sequences.set_pattern("contract", pattern=pattern, reset=reset, by=admin_user)
    assert message in _messages(caught.value)["pattern"][0]
    assert not Sequence.objects.exists()


def test_it_refuses_an_unknown_restart(admin_user):
    with pytest.raises(ValidationError) as caught:
        sequences.set_pattern("contract", pattern=PATTERN, reset="weekly", by=admin_user)
    assert "reset" in caught.value.error_dict


def test_a_pattern_change_is_audited_and_the_counter_goes_on(admin_user):
    _draw(date(2026, 5, 3))
    row = sequences.set_pattern(
        "contract", pattern="C{yyyy}-{seq:05}", reset="yearly", by=admin_user
    )
    entry = trail_of(row).first()
    assert entry.actor == admin_user
    assert entry.changes == [
        {"field": "pattern", "label": "pattern", "old": PATTERN, "new": "C{yyyy}-{seq:05}"}
    ]
    assert _draw(date(2026, 5, 3)) == "C2026-00002"
    # Setting the same again changes (and audits) nothing.
    sequences.set_pattern("contract", pattern="C{yyyy}-{seq:05}", reset="yearly", by=admin_user)
    assert trail_of(row).count() == 1


@pytest.mark.django_db(transaction=True)
def test_numbers_drawn_at_once_never_repeat():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes one at a time (the connection is the only writer)")
    drawn: list[str] = []
    errors: list[BaseException] = []

    def draw_many():
        try:
            for _ in range(10):
                drawn.append(_draw(date(2026, 5, 3)))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draw_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(drawn) == 40
    assert len(set(drawn)) == 40
    assert Sequence.objects.get(key="contract").last_value == 40
