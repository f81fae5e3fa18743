"""The timeline registry: sources merged newest first, paged by a cursor without duplicates or
gaps (also among events at the same moment), filtered by kind, in few queries."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tuoke.core import timeline
from tuoke.core.timeline import Cursor, Event, Source
from tuoke.customers.models import Tag

SUBJECT = "timeline_test"
RECORD = SimpleNamespace(record_type=SUBJECT)
T0 = datetime(2025, 11, 22, 6, 30, tzinfo=UTC)


def _source(key: str, *, order: int = 100, available=lambda user: True) -> Source:
    """A source over the tags whose names start with ``key``: enough rows of any time."""

    def keys(record, user):
        return Tag.objects.filter(name__startswith=f"{key}-")

    def load(pks, user):
        return [
            Event(at=tag.created_at, kind=key, pk=tag.pk, title=tag.name)
            for tag in Tag.objects.filter(pk__in=pks)
        ]

    return Source(
        key=key,
        label=key.upper(),
        icon="tag",
        keys=keys,
        load=load,
        subject=SUBJECT,
        order=order,
        available=available,
    )


@pytest.fixture
def sources():
    made = [
        timeline.register(_source("alpha", order=2)),
        timeline.register(_source("beta", order=1)),
        timeline.register(_source("gamma", order=3, available=lambda user: False)),
    ]
    yield made
    for source in made:
        timeline.unregister(SUBJECT, source.key)


def _tag(name: str, at: datetime) -> Tag:
    tag = Tag.objects.create(name=name)
    Tag.objects.filter(pk=tag.pk).update(created_at=at)
    return tag


def _all_pages(user, *, limit: int, kinds=None) -> list[list[Event]]:
    pages, before = [], None
    while True:
        found = timeline.page(RECORD, user, kinds=kinds, before=before, limit=limit)
        pages.append(found.events)
        if not found.next_cursor:
            return pages
        before = Cursor.decode(found.next_cursor)


@pytest.mark.django_db
def test_it_merges_the_sources_newest_first(sources, rep_east):
    _tag("alpha-1", T0)
    _tag("beta-1", T0 + timedelta(minutes=1))
    _tag("alpha-2", T0 + timedelta(minutes=2))
    _tag("gamma-1", T0 + timedelta(minutes=3))  # a source the user may not see

    found = timeline.page(RECORD, rep_east)

    assert [e.title for e in found.events] == ["alpha-2", "beta-1", "alpha-1"]
    assert found.next_cursor is None
    # The chips: in their order, without the unavailable source.
    assert [s.key for s in found.kinds] == ["beta", "alpha"]
    assert found.events[0].kind_label == "ALPHA" and found.events[0].icon == "tag"


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_it_pages_without_duplicates_or_gaps_even_at_equal_times(sources, rep_east, limit):
    made = []
    for i in range(12):
        # Four moments, each shared by rows of both sources.
        at = T0 + timedelta(seconds=i // 3)
        made.append(_tag(f"{'alpha' if i % 2 else 'beta'}-{i}", at))

    pages = _all_pages(rep_east, limit=limit)
    events = [e for p in pages for e in p]

    assert sorted(e.pk for e in events) == sorted(t.pk for t in made)
    assert len({e.id for e in events}) == len(events)
    assert all(len(p) <= limit for p in pages)
    order = [(e.at, e.kind, e.pk) for e in events]
    assert order == sorted(order, reverse=True)
    # Stable: asking again gives the same order.
    assert [e.id for p in _all_pages(rep_east, limit=limit) for e in p] == [e.id for e in events]


@pytest.mark.django_db
def test_it_filters_by_kind(sources, rep_east):
    _tag("alpha-1", T0)
    _tag("beta-1", T0 + timedelta(minutes=1))
    _tag("alpha-2", T0 + timedelta(minutes=2))

    found = timeline.page(RECORD, rep_east, kinds=["alpha"])
    assert [e.title for e in found.events] == ["alpha-2", "alpha-1"]
    assert found.chosen == ["alpha"]
    # A kind the user may not see stays empty; it does not fall back to everything.
    _tag("gamma-1", T0)
    assert timeline.page(RECORD, rep_east, kinds=["gamma"]).events == []


@pytest.mark.django_db
def test_its_queries_do_not_grow_with_the_events(sources, rep_east):
    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            timeline.page(RECORD, rep_east, limit=20)
        return len(queries)

    for i in range(10):
        _tag(f"{'alpha' if i % 2 else 'beta'}-{i}", T0 + timedelta(minutes=i))
    few = queries_for_a_page()
    for i in range(10, 100):
        _tag(f"{'alpha' if i % 2 else 'beta'}-{i}", T0 + timedelta(minutes=i))
    # Each source: its keys (one UNION for all where the database allows), its page's rows.
    assert queries_for_a_page() == few == (3 if connection.vendor == "postgresql" else 4)


def test_a_cursor_round_trips_to_the_microsecond():
    cursor = Cursor(datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), "follow_up", 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "x", "1~follow_up", "1~Bad Kind~2", "a~b~c", "1~b~0", "1~b~-3"):
        with pytest.raises(ValueError):
            Cursor.decode(bad)


def test_it_parses_repeated_and_comma_separated_kinds():
    assert timeline.parse_kinds(["a,b", "c", " a ", ""]) == ["a", "b", "c"]


def test_a_source_key_is_a_plain_name():
    with pytest.raises(ValueError):
        _source("Not a key")


@pytest.mark.parametrize(
    ("language", "moment", "shown"),
    [
        ("zh-hans", datetime(2026, 11, 22, 6, 30, tzinfo=UTC), "11月22日 周日 14:30"),
        ("zh-hans", datetime(2025, 11, 22, 6, 30, tzinfo=UTC), "2025年11月22日 周六 14:30"),
        ("en", datetime(2026, 11, 22, 6, 30, tzinfo=UTC), "Sun, Nov 22, 14:30"),
    ],
)
def test_it_shows_moments_as_people_read_them(settings, language, moment, shown):
    settings.TIME_ZONE = "Asia/Shanghai"
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with translation.override(language), timezone.override("Asia/Shanghai"):
        assert timeline.moment_label(moment, now=now) == shown
