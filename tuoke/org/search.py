"""Colleagues and org units in the global search (registered in ``OrgConfig.ready``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tuoke.core import search
from tuoke.core.search import Hit, Source

from .models import OrgUnit, User


def match_users(queryset: QuerySet[User], q: str) -> QuerySet[User]:
    # A company has hundreds of users, not millions: a scan is fine.
    return queryset.filter(
        Q(username__icontains=q)
        | Q(display_name__icontains=q)
        | Q(email__icontains=q)
        | Q(mobile__icontains=q)
    ).order_by("-is_active", "username")


def match_units(queryset: QuerySet[OrgUnit], q: str) -> QuerySet[OrgUnit]:
    return queryset.filter(name__icontains=q).order_by("path")


def _user_hit(user: User) -> Hit:
    facts = [user.username, user.title, str(user.unit or "")]
    if not user.is_active:
        facts.append(str(_("deactivated")))
    return Hit(
        title=str(user),
        detail=" · ".join(f for f in facts if f),
        url=reverse("org:user_detail", args=[user.pk]),
    )


def _unit_hit(unit: OrgUnit) -> Hit:
    return Hit(
        title=unit.name,
        detail=str(unit.manager or ""),
        url=reverse("org:unit_detail", args=[unit.pk]),
    )


def register() -> None:
    search.register(
        Source(
            key="users",
            label=_("Colleagues"),
            model=User,
            match=match_users,
            hit=_user_hit,
            icon="user",
            order=80,
            prepare=lambda qs: qs.select_related("unit"),
        )
    )
    search.register(
        Source(
            key="units",
            label=_("Org units"),
            model=OrgUnit,
            match=match_units,
            hit=_unit_hit,
            icon="sitemap",
            order=90,
            prepare=lambda qs: qs.select_related("manager"),
        )
    )
