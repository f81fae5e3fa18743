"""Sessions are Django's database sessions, read with one plain query (tuoke.core.sessions)."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from tuoke.core.sessions import SessionStore


def test_a_session_reads_back_what_was_saved(db, django_assert_num_queries):
    saved = SessionStore()
    saved["cart"] = ["合同", 3]
    saved.create()

    read = SessionStore(saved.session_key)
    with django_assert_num_queries(1):
        assert read["cart"] == ["合同", 3]
    assert read.session_key == saved.session_key


def test_an_unknown_or_expired_session_is_empty_and_gets_a_new_key(db):
    assert SessionStore("no-such-session-key-0123456789").load() == {}
    old = SessionStore()
    old["x"] = 1
    old.create()
    Session.objects.filter(pk=old.session_key).update(expire_date=timezone.now() - timedelta(1))

    read = SessionStore(old.session_key)
    assert read.load() == {}
    assert read.session_key is None  # saving it makes a new one, never the expired key
    read["y"] = 2
    read.save()
    assert read.session_key not in (None, old.session_key)
