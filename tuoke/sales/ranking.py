"""Who can close soon (F21, first step): ranking a rep's open opportunities.

A ranker turns opportunities into (opportunity, score, reasons), best first. The default,
``StageRanker``, multiplies three factors, each between 0 and 1:

- the stage's win probability (80% → 0.8);
- recency of activity: halved for every 14 days since the last activity (a follow-up or a
  stage move; the stage entry when there was none): today 1.0, 14 days ago 0.5, 28 days 0.25;
- closeness of the expected close date: 1.0 within 7 days, then halved for every 30 days
  further out; 0.8 when the date has passed (still likely, but slipping); 0.3 without a date.

The score is their product × 100, rounded. A learned model later registers another ranker
(``register``) and the setting ``SALES_CLOSE_SOON_RANKER`` names the one in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Opportunity

RECENCY_HALF_LIFE_DAYS = 14
CLOSE_WITHIN_DAYS = 7
CLOSENESS_HALF_LIFE_DAYS = 30
OVERDUE_CLOSENESS = 0.8
NO_DATE_CLOSENESS = 0.3


@dataclass
class Ranked:
    opportunity: Opportunity
    score: int  # 0 … 100
    reasons: list[str] = field(default_factory=list)

    def __iter__(self):  # unpacks as (opportunity, score, reasons)
        return iter((self.opportunity, self.score, self.reasons))


class Ranker(Protocol):
    key: str

    def rank(
        self, opportunities: Sequence[Opportunity], *, now: datetime | None = None
    ) -> list[Ranked]:
        """The opportunities with a score and the reasons for it, best first."""
        ...


def _days_between(earlier: datetime, later: datetime) -> int:
    return (timezone.localtime(later).date() - timezone.localtime(earlier).date()).days


class StageRanker:
    """Stage probability × recency of activity × closeness of the expected close date."""

    key = "stage"

    def factors(self, opp: Opportunity, now: datetime) -> tuple[float, float, float, list[str]]:
        reasons = [
            _("stage %(stage)s %(probability)s%%")
            % {"stage": opp.stage.name, "probability": opp.stage.probability}
        ]
        probability = opp.stage.probability / 100

        last = opp.last_activity_at or opp.stage_entered_at
        idle = max(_days_between(last, now), 0)
        recency = 0.5 ** (idle / RECENCY_HALF_LIFE_DAYS)
        if idle == 0:
            reasons.append(_("active today"))
        else:
            reasons.append(
                ngettext("active %(days)s day ago", "active %(days)s days ago", idle)
                % {"days": idle}
            )

        if opp.expected_close_date is None:
            closeness = NO_DATE_CLOSENESS
            reasons.append(_("no expected close date"))
        else:
            ahead = (opp.expected_close_date - timezone.localtime(now).date()).days
            if ahead < 0:
                closeness = OVERDUE_CLOSENESS
                reasons.append(
                    ngettext(
                        "overdue close date (%(days)s day late)",
                        "overdue close date (%(days)s days late)",
                        -ahead,
                    )
                    % {"days": -ahead}
                )
            else:
                closeness = 0.5 ** (max(ahead - CLOSE_WITHIN_DAYS, 0) / CLOSENESS_HALF_LIFE_DAYS)
                if ahead == 0:
                    reasons.append(_("expected to close today"))
                else:
                    reasons.append(
                        ngettext(
                            "expected to close in %(days)s day",
                            "expected to close in %(days)s days",
                            ahead,
                        )
                        % {"days": ahead}
                    )
        return probability, recency, closeness, reasons

    def rank(
        self, opportunities: Sequence[Opportunity], *, now: datetime | None = None
    ) -> list[Ranked]:
        now = now or timezone.now()
        ranked = []
        for opp in opportunities:
            probability, recency, closeness, reasons = self.factors(opp, now)
            score = round(probability * recency * closeness * 100)
            ranked.append(Ranked(opp, score, reasons))
        # Equal scores: the earlier expected date, then the larger amount, first.
        ranked.sort(
            key=lambda r: (
                -r.score,
                r.opportunity.expected_close_date or date.max,
                -(r.opportunity.amount or 0),
                r.opportunity.pk,
            )
        )
        return ranked


_rankers: dict[str, Ranker] = {}
DEFAULT = "stage"


def register(ranker: Ranker) -> None:
    """Make a ranker available under its ``key`` (a learned model registers itself here)."""
    _rankers[ranker.key] = ranker


def rankers() -> Iterable[str]:
    return tuple(_rankers)


def current() -> Ranker:
    """The ranker the setting ``SALES_CLOSE_SOON_RANKER`` names (the stage-based one by
    default, and when the named one is not registered)."""
    key = getattr(settings, "SALES_CLOSE_SOON_RANKER", DEFAULT)
    return _rankers.get(key) or _rankers[DEFAULT]


register(StageRanker())
