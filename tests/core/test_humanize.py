"""``tuoke.core.humanize.ago`` writes what Django's ``naturaltime`` writes, in both languages."""

from datetime import timedelta

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone, translation

from tuoke.core.humanize import ago

MOMENTS = [
    timedelta(seconds=-7200),  # the future
    timedelta(seconds=0),
    timedelta(seconds=40),
    timedelta(minutes=59, seconds=59),
    timedelta(hours=23, minutes=59),
    timedelta(days=1),
    timedelta(days=1, hours=5, minutes=30),
    timedelta(days=13, hours=23),
    timedelta(days=45, hours=2),
    timedelta(days=400, hours=7),
    timedelta(days=1100),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_reads_as_naturaltime(language):
    now = timezone.now()
    with translation.override(language):
        for before in MOMENTS:
            moment = now - before
            assert ago(moment) == str(naturaltime(moment)), before


def test_the_words_follow_the_language():
    moment = timezone.now() - timedelta(days=3, hours=2)
    with translation.override("en"):
        english = ago(moment)
    with translation.override("zh-hans"):
        chinese = ago(moment)
    assert "3" in english and "day" in english
    assert "3" in chinese and "小时" in chinese
