"""Customer benchmarks on the "large" data set: the scoped customer list (page and API), the
duplicate check, creating a customer with it, and global search, each against its budget of
ARCHITECTURE.md. Writes bench/results/customers-<database>.json.

Runs on the database of DATABASE_URL as it is (seed it first with
`tuoke bench seed --size large`); never on the test database. Customers created by the
"create" scenario are removed again at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from .run import ROUNDS, judged, measure_calls, report, show

# ARCHITECTURE.md, on this 2-core machine.
BUDGETS_MS = {"list": 50, "duplicates": 50, "create": 50, "search": 100}
BENCH_MARK = "性能测试"  # in the names of the customers the create scenario makes


def _samples() -> dict[str, Any]:
    """Real values from the data set to search and check for, picked from the rep's customers
    and from customers of other units."""
    from tuoke.customers.models import Contact, Customer
    from tuoke.org.models import User

    rep = User.objects.get(username="bench_0_1")
    own = list(Customer.objects.filter(owner=rep).order_by("-pk")[:50])
    other = list(Customer.objects.exclude(owner__unit=rep.unit).order_by("pk")[:50])
    contact = Contact.objects.filter(customer__in=own).exclude(email="").first()
    return {
        "own": own,
        "other": other,
        "contact": contact,
        "prefixes": [c.name_key[:2] for c in own[:10]],
        "middles": [c.name_key[1:5] for c in own[:10] if len(c.name_key) >= 5],
        "initials": [c.pinyin_initials[:4] for c in own[:10]],
    }


def _cycle(values: list[str]) -> Iterator[str]:
    return itertools.cycle(values)


def _get(client, urls: Iterator[str]) -> Callable[[], Any]:
    return lambda: client.get(next(urls))


def _post_json(client, url: str, bodies: Iterator[dict], token: str) -> Callable[[], Any]:
    return lambda: client.post(
        url,
        data=json.dumps(next(bodies)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def scenarios(people: dict, samples: dict) -> list[tuple[str, str, str, Callable]]:
    """(label, budget key, user, the request to repeat) for each figure."""
    from urllib.parse import quote

    from django.test import Client

    from tuoke.org.services import create_token

    def client_of(username: str) -> Client:
        client = Client()
        client.force_login(people[username])
        return client

    def token_of(username: str) -> str:
        return create_token(user=people[username], name="bench", by=None)[1]

    found: list[tuple[str, str, str, Callable]] = []
    roles = [("rep", "bench_0_1"), ("manager", "bench_0_0"), ("boss", "boss")]
    for role, username in [*roles, ("director", "director")]:
        client = client_of(username)
        for label, query in (
            ("", "?sort=-updated"),
            (", filtered by status", "?status=intent&sort=-updated"),
            (", sorted by name", "?sort=name"),
        ):
            found.append(
                (
                    f"customer list page, {role}{label}",
                    "list",
                    username,
                    _get(client, _cycle([f"/customers/{query}"])),
                )
            )
        urls = [f"/customers/?q={quote(p)}&sort=-updated" for p in samples["prefixes"]]
        found.append(
            (f"customer list page, {role}, searched", "list", username, _get(client, _cycle(urls)))
        )
    for role, username in roles:
        client = client_of(username)
        for label, query in (
            ("", ""),
            (", filtered by status", "?lifecycle_status=intent"),
            (", sorted by short name", "?sort=short_name"),
        ):
            found.append(
                (
                    f"API customer list, {role}{label}",
                    "list",
                    username,
                    _get(client, _cycle([f"/api/v1/customers{query}"])),
                )
            )
    # The duplicate check: a name typed as it exists (same), a homophone-free new name, the
    # mobile of a contact, a customer of another unit (seen only by name and owner).
    rep_token = token_of("bench_0_1")
    rep_client = client_of("bench_0_1")
    own, other, contact = samples["own"], samples["other"], samples["contact"]
    checks = [
        {"legal_name": own[0].legal_name},
        {"legal_name": f"{BENCH_MARK}新公司有限公司"},
        {"short_name": "某某", "phones": [contact.mobile]},
        {"legal_name": other[0].legal_name},
        {"legal_name": own[1].short_name + "科技有限公司"},
    ]
    found.append(
        (
            "API duplicate check, rep",
            "duplicates",
            "bench_0_1",
            _post_json(Client(), "/api/v1/customers/duplicates", _cycle(checks), rep_token),
        )
    )
    typed = _cycle(
        [
            {"legal_name": c.legal_name[: n + 4]}
            for c in own[:10]
            for n in range(0, max(1, len(c.legal_name) - 4), 3)
        ]
    )
    found.append(
        (
            "duplicate check while typing (page fragment), rep",
            "duplicates",
            "bench_0_1",
            lambda: rep_client.post("/customers/duplicates/", next(typed)),
        )
    )
    counter = itertools.count()
    new_customers = (
        {
            "legal_name": f"{BENCH_MARK}{n:06d}号科技有限公司",
            "contacts": [{"name": "测试联系人", "mobile": f"+8619{n:09d}"}],
        }
        for n in counter
    )
    found.append(
        (
            "API create customer (with duplicate check), rep",
            "create",
            "bench_0_1",
            _post_json(Client(), "/api/v1/customers", new_customers, rep_token),
        )
    )
    mobile_digits = contact.mobile.removeprefix("+86")[:7]
    queries = [
        *samples["prefixes"],
        *samples["middles"],
        *samples["initials"],
        mobile_digits,
        contact.name,
        contact.email[:8],
    ]
    for role, username in roles:
        client = client_of(username)
        quick = [f"/search/quick/?q={quote(q)}" for q in queries]
        found.append(
            (f"global search (top bar), {role}", "search", username, _get(client, _cycle(quick)))
        )
    full = [f"/search/?q={quote(q)}" for q in queries]
    found.append(
        ("global search (results page), boss", "search", "boss", _get(client, _cycle(full)))
    )
    return found


def _clean_up(started_at) -> int:
    """Remove what the benchmark wrote: created customers, their contacts, trail and tokens."""
    from django.contrib.contenttypes.models import ContentType

    from tuoke.core.models import AuditEntry
    from tuoke.customers.models import Contact, Customer
    from tuoke.org.models import ApiToken

    made = list(
        Customer.all_objects.filter(legal_name__startswith=BENCH_MARK).values_list("pk", flat=True)
    )
    contacts = list(Contact.all_objects.filter(customer_id__in=made).values_list("pk", flat=True))
    for model, ids in ((Customer, made), (Contact, contacts)):
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id__in=ids
        ).delete()
    Contact.all_objects.filter(pk__in=contacts).delete()
    Customer.all_objects.filter(pk__in=made).delete()
    ApiToken.objects.filter(name="bench").delete()
    AuditEntry.objects.filter(at__gte=started_at, kind__in=["login", "create"]).filter(
        content_type__model="apitoken"
    ).delete()
    return len(made)


def run() -> int:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from tuoke.core.seed import data_size
    from tuoke.org.models import User

    usernames = ["bench_0_1", "bench_0_0", "boss", "director"]
    people = {u.username: u for u in User.objects.filter(username__in=usernames)}
    if len(people) < 4:
        raise SystemExit(
            "No bench data here: run `tuoke bench seed --size large` on this database first."
        )
    started_at = timezone.now()
    samples = _samples()
    figures = []
    try:
        only = os.environ.get("BENCH_ONLY", "")  # a part of the labels to run, e.g. "API"
        for label, budget_key, username, call in scenarios(people, samples):
            if only not in label:
                continue
            rounds = ROUNDS if budget_key != "create" else min(ROUNDS, 100)
            result = measure_calls(call, rounds)
            judged(result, label=label, user=username, budget_ms=BUDGETS_MS[budget_key])
            show(result, width=58)
            figures.append(result)
    finally:
        removed = _clean_up(started_at)
        print(f"removed {removed} customers made by the create scenario")
    started = time.perf_counter()
    sizes = data_size()
    print(f"data size counted in {time.perf_counter() - started:.1f} s: {sizes}")
    sizes["list_count_cap"] = getattr(settings, "LIST_COUNT_CAP", 10_000)
    name = "customers" if not only else "customers-partial"
    return report(name, connection.vendor, sizes, figures)
