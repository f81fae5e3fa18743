"""Leads: creation with the duplicate flag and the round robin, edits, assignment, cleaning,
conversion into a customer, channels and their costs."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.customers.test_services import CODE
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry
from tuoke.customers import services as customer_services
from tuoke.customers.models import Customer, LifecycleStatus
from tuoke.leads import queries, services
from tuoke.leads.models import CleaningKind, Lead, LeadStatus
from tuoke.org.services import deactivate_user

from .conftest import make_lead


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errors] for f, errors in exc.error_dict.items()}


# --- Creation -----------------------------------------------------------------------------------


def test_it_creates_a_lead_with_normalised_facts_keys_and_history(marketing, website):
    lead = make_lead(
        marketing,
        channel=website,
        short_name=" 腾达精密 ",
        credit_code=CODE.lower(),
        contact_name="王强",
        mobile="138 0013 8000",
        email="Wang.Qiang＠TENGDA.cn",
        needs="50 台数控机床",
    )
    assert lead.owner == marketing  # no rule: the person entering it keeps it
    assert lead.status == LeadStatus.NEW
    assert (lead.short_name, lead.credit_code) == ("腾达精密", CODE)
    assert (lead.mobile, lead.email) == ("+8613800138000", "wang.qiang@tengda.cn")
    assert (lead.name_key, lead.pinyin_initials) == ("腾达精密科技", "tdjmkj")
    assert trail_of(lead).get().kind == AuditEntry.Kind.CREATE


def test_it_accepts_a_lead_known_only_by_a_phone_but_not_an_empty_one(marketing):
    assert services.create_lead(by=marketing, mobile="13800138000").display_name
    with pytest.raises(ValidationError) as caught:
        services.create_lead(by=marketing, needs="想了解产品")
    assert "company_name" in caught.value.message_dict


def test_it_names_each_bad_field(marketing):
    with pytest.raises(ValidationError) as caught:
        make_lead(marketing, credit_code=CODE[:-1] + "0", mobile="12", email="nobody")
    assert set(caught.value.message_dict) == {"credit_code", "mobile", "email"}


def test_it_refuses_an_inactive_channel(marketing, website):
    services.update_channel(website, by=marketing, active=False)
    with pytest.raises(ValidationError) as caught:
        make_lead(marketing, channel=website)
    assert _codes(caught.value) == {"channel": ["inactive_channel"]}


def test_it_lets_only_distributors_choose_another_owner(people, marketing):
    with pytest.raises(PermissionDenied):
        make_lead(people["rep_east1"], owner=people["rep_east2"])
    assert make_lead(marketing, owner=people["rep_south1"]).owner == people["rep_south1"]
    # A manager hands leads only to his own team.
    with pytest.raises(ValidationError) as caught:
        make_lead(people["manager_east"], owner=people["rep_south1"])
    assert _codes(caught.value) == {"owner": ["forbidden"]}


# --- Round robin --------------------------------------------------------------------------------


def test_it_hands_new_leads_round_the_rule_members_in_order(people, marketing, website):
    east1, east2, south1 = people["rep_east1"], people["rep_east2"], people["rep_south1"]
    services.create_rule(
        by=marketing, name="官网轮转", channel=website, members=[east1, east2, south1]
    )
    owners = [make_lead(marketing, channel=website, short_name=f"客户{i}").owner for i in range(4)]
    assert owners == [east1, east2, south1, east1]
    note = trail_of(Lead.objects.latest("pk")).filter(kind=AuditEntry.Kind.UPDATE).get().note
    assert "官网轮转" in note


def test_it_skips_deactivated_members(people, marketing, website):
    east1, east2, south1 = people["rep_east1"], people["rep_east2"], people["rep_south1"]
    services.create_rule(
        by=marketing, name="官网轮转", channel=website, members=[east1, east2, south1]
    )
    assert make_lead(marketing, channel=website, short_name="甲").owner == east1
    deactivate_user(east2, by=people["admin"])
    assert make_lead(marketing, channel=website, short_name="乙").owner == south1
    assert make_lead(marketing, channel=website, short_name="丙").owner == east1


def test_the_most_specific_rule_wins(people, marketing, website, fair):
    east1, east2, south1 = people["rep_east1"], people["rep_east2"], people["rep_south1"]
    services.create_rule(by=marketing, name="全部", members=[south1])
    services.create_rule(by=marketing, name="官网", channel=website, members=[east2])
    services.create_rule(by=people["manager_east"], name="华东", unit=east1.unit, members=[east1])
    assert make_lead(marketing, channel=website, short_name="甲").owner == east2
    assert make_lead(marketing, channel=fair, short_name="乙").owner == south1
    # Entered by someone of 华东销售组: the unit's rule beats the rule for anyone.
    assert make_lead(people["manager_east"], channel=fair, short_name="丙").owner == east1
    assert make_lead(people["manager_east"], channel=website, short_name="丁").owner == east2


def test_it_needs_an_owner_when_nobody_enters_the_lead_and_no_rule_applies(website):
    with pytest.raises(ValidationError) as caught:
        make_lead(None, channel=website)
    assert _codes(caught.value) == {"owner": ["no_owner"]}


# --- Duplicates ---------------------------------------------------------------------------------


def test_it_flags_the_same_company_or_person_without_refusing_it(people, marketing):
    first = make_lead(marketing, contact_name="王强", mobile="13800138000")
    again = make_lead(marketing, company_name="腾达精密科技（深圳）有限公司")
    by_phone = make_lead(marketing, company_name="别的公司", mobile="+86 138-0013-8000")
    assert again.duplicate_of == first and by_phone.duplicate_of == first
    assert again.is_flagged
    customer = customer_services.create_customer(by=people["rep_south1"], short_name="东方电气")
    lead = make_lead(marketing, company_name="东方电气有限公司")
    assert lead.duplicate_customer == customer and lead.duplicate_of is None


def test_a_rep_learns_only_name_and_owner_of_matches_out_of_his_scope(people, marketing):
    make_lead(marketing, owner=people["rep_south1"], company_name="广州白云机电有限公司")
    customer_services.create_customer(by=people["rep_south1"], short_name="白云机电")
    report = services.find_lead_duplicates(user=people["rep_east1"], company_name="白云机电")
    assert {c.kind for c in report.same} == {"lead", "customer"}
    assert all(not c.visible for c in report.same)
    assert {str(c.owner) for c in report.same} == {"黄敏"}
    assert all(
        c.visible
        for c in services.find_lead_duplicates(user=marketing, company_name="白云机电").same
        if c.kind == "lead"
    )


def test_it_scores_similar_names_with_the_customers_engine(marketing):
    make_lead(marketing, company_name="深圳市腾达精密科技有限公司")
    report = services.find_lead_duplicates(user=marketing, company_name="藤达精密科技")
    assert report.same == [] and report.similar[0].kind == "lead"


# --- Edits --------------------------------------------------------------------------------------


def test_it_edits_with_a_version_check_and_refreshes_the_flags(marketing):
    first = make_lead(marketing, mobile="13800138000")
    lead = make_lead(marketing, company_name="东方电气")
    stale = lead.version
    services.update_lead(lead, by=marketing, expected_version=stale, mobile="138 0013 8000")
    assert lead.duplicate_of == first and lead.mobile == "+8613800138000"
    with pytest.raises(Conflict):
        services.update_lead(lead, by=marketing, expected_version=stale, needs="变更")
    services.update_lead(lead, by=marketing, status=LeadStatus.WORKING)
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.WORKING


def test_it_keeps_status_owner_and_conversion_to_their_own_actions(people, marketing):
    lead = make_lead(marketing)
    for change in (
        {"owner": people["rep_east1"]},
        {"status": LeadStatus.CONVERTED},
        {"cleaning_kind": CleaningKind.JUNK},
    ):
        with pytest.raises(ValidationError):
            services.update_lead(lead, by=marketing, **change)


# --- Assignment and handover --------------------------------------------------------------------


def test_a_manager_assigns_leads_of_his_team_audited(people, marketing):
    leads = [make_lead(marketing, short_name=f"客户{i}") for i in range(3)]
    with pytest.raises(PermissionDenied):
        services.assign_leads(leads, to=people["rep_east1"], by=people["rep_east2"])
    moved = services.assign_leads(leads, to=people["rep_east1"], by=marketing, reason="华东客户")
    assert moved == 3
    lead = Lead.objects.get(pk=leads[0].pk)
    assert lead.owner == people["rep_east1"] and lead.version == 2
    entry = trail_of(lead).first()
    assert entry.changes[0]["new"] == "张伟" and "华东客户" in entry.note
    with pytest.raises(ValidationError) as caught:
        services.assign_leads(leads, to=people["rep_south1"], by=people["manager_east"])
    assert _codes(caught.value) == {"to": ["forbidden"]}


def test_it_transfers_a_reps_leads_with_a_reason(people, marketing):
    lead = make_lead(marketing, owner=people["rep_east1"])
    with pytest.raises(ValidationError):
        services.transfer_leads([lead], to=people["rep_east2"], reason=" ", by=marketing)
    services.transfer_leads(
        [lead], to=people["rep_east2"], reason="张伟离职", by=people["manager_east"]
    )
    assert Lead.objects.get(pk=lead.pk).owner == people["rep_east2"]
    assert "张伟离职" in trail_of(lead).first().note


def test_it_offers_only_people_who_work_on_leads_within_the_scope(people, marketing):
    names = set(
        services.assignable_users(people["manager_east"]).values_list("username", flat=True)
    )
    assert names == {"manager_east", "rep_east1", "rep_east2"}
    everyone = set(services.assignable_users(marketing).values_list("username", flat=True))
    assert {"rep_south1", "rep_east1", "marketing1"} <= everyone
    assert "finance1" not in everyone and "boss" not in everyone
    assert not services.assignable_users(people["rep_east1"]).exists()


# --- Cleaning -----------------------------------------------------------------------------------


def test_it_cleans_with_a_reason_and_brings_it_back(marketing):
    lead = make_lead(marketing)
    with pytest.raises(ValidationError) as caught:
        services.clean_lead(lead, kind=CleaningKind.JUNK, reason="", by=marketing)
    assert _codes(caught.value) == {"reason": ["required"]}
    with pytest.raises(ValidationError):
        services.clean_lead(lead, kind="spam", reason="广告", by=marketing)
    services.clean_lead(lead, kind=CleaningKind.JUNK, reason="推销广告", by=marketing)
    cleaned = Lead.objects.get(pk=lead.pk)
    assert (cleaned.status, cleaned.cleaning_kind) == (LeadStatus.CLEANED, "junk")
    assert Lead.objects.filter(cleaning_kind=CleaningKind.JUNK).count() == 1
    services.unclean_lead(cleaned, by=marketing)
    cleaned.refresh_from_db()
    assert (cleaned.status, cleaned.cleaning_kind, cleaned.cleaning_reason) == ("new", "", "")
    changed = [c["field"] for e in trail_of(cleaned) for c in e.changes]
    assert "cleaning_reason" in changed


def test_it_cleans_many_at_once_but_never_a_converted_lead(people, marketing):
    leads = [
        make_lead(marketing, short_name=f"客户{i}", owner=people["rep_east1"]) for i in range(3)
    ]
    assert services.clean_leads(leads[:2], kind="invalid", reason="空号", by=marketing) == 2
    services.convert_lead(leads[2], by=people["rep_east1"])
    with pytest.raises(ValidationError) as caught:
        services.clean_leads(leads, kind="invalid", reason="空号", by=marketing)
    assert _codes(caught.value) == {"status": ["already_converted"]}


# --- Conversion ---------------------------------------------------------------------------------


def test_it_converts_into_a_customer_and_contact_carrying_channel_and_history(
    people, marketing, website
):
    rep = people["rep_east1"]
    received = []

    def receiver(sender, lead, customer, contact, by, **kwargs):
        received.append((lead.pk, customer.pk, contact.pk, by))

    services.lead_converted.connect(receiver)
    try:
        lead = make_lead(
            marketing,
            owner=rep,
            channel=website,
            short_name="腾达精密",
            credit_code=CODE,
            industry="精密制造",
            contact_name="王强",
            title="采购经理",
            mobile="13800138000",
        )
        result = services.convert_lead(lead, by=rep)
    finally:
        services.lead_converted.disconnect(receiver)
    customer, contact = result.customer, result.contact
    assert result.created and customer.owner == rep
    assert (customer.legal_name, customer.credit_code, customer.industry) == (
        "深圳市腾达精密科技有限公司",
        CODE,
        "精密制造",
    )
    assert (contact.name, contact.mobile, contact.title) == ("王强", "+8613800138000", "采购经理")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED and lead.converted_at is not None
    assert (lead.converted_customer, lead.converted_contact) == (customer, contact)
    assert list(customer.source_leads.all()) == [lead]
    assert customer.lifecycle_status == LifecycleStatus.POTENTIAL
    moves = [(c.from_status, c.to_status, c.cause) for c in customer.lifecycle_changes.all()]
    assert moves[0] == ("lead", "potential", "lead_converted")
    notes = " ".join(e.note for e in trail_of(customer))
    assert f"#{lead.pk}" in notes and "官网表单" in notes
    assert received == [(lead.pk, customer.pk, contact.pk, rep)]


def test_it_attaches_a_lead_to_an_existing_customer_reusing_the_same_contact(people, marketing):
    rep = people["rep_east1"]
    customer = customer_services.create_customer(
        by=rep, short_name="腾达精密", contacts=[{"name": "王强", "mobile": "13800138000"}]
    )
    lead = make_lead(marketing, owner=rep, contact_name="王强", mobile="138 0013 8000")
    result = services.convert_lead(lead, by=rep, customer=customer)
    assert not result.created and result.contact == customer.contacts.get()
    other = make_lead(marketing, owner=rep, short_name="腾达二部", contact_name="李娜")
    result = services.convert_lead(other, by=rep, customer=customer)
    assert result.contact.name == "李娜" and customer.contacts.count() == 2
    south = customer_services.create_customer(by=people["rep_south1"], short_name="白云机电")
    third = make_lead(marketing, owner=rep, short_name="白云")
    with pytest.raises(ValidationError) as caught:
        services.convert_lead(third, by=rep, customer=south)
    assert _codes(caught.value) == {"customer": ["forbidden"]}


def test_the_customers_duplicate_check_applies_named_after_the_input(people, marketing):
    rep = people["rep_east1"]
    customer_services.create_customer(
        by=people["rep_south1"], legal_name="深圳市腾达精密科技有限公司"
    )
    lead = make_lead(marketing, owner=rep)
    with pytest.raises(ValidationError) as caught:
        services.convert_lead(lead, by=rep)
    assert _codes(caught.value) == {"customer.legal_name": ["duplicate"]}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    with pytest.raises(ValidationError) as caught:
        services.convert_lead(
            lead,
            by=rep,
            customer_facts={"short_name": "新名字"},
            contact_facts={"name": "王强", "mobile": "12"},
        )
    assert "contact.mobile" in caught.value.message_dict


def test_it_converts_a_lead_only_once_and_not_while_cleaned(people, marketing):
    rep = people["rep_east1"]
    lead = make_lead(marketing, owner=rep)
    services.clean_lead(lead, kind="invalid", reason="空号", by=marketing)
    with pytest.raises(ValidationError) as caught:
        services.convert_lead(lead, by=rep)
    assert _codes(caught.value) == {"status": ["cleaned"]}
    services.unclean_lead(lead, by=marketing)
    services.convert_lead(lead, by=rep)
    with pytest.raises(ValidationError) as caught:
        services.convert_lead(lead, by=rep)
    assert _codes(caught.value) == {"status": ["already_converted"]}
    with pytest.raises(ValidationError):
        services.update_lead(lead, by=rep, needs="改")


def test_merging_customers_moves_their_source_leads(people, marketing):
    rep = people["rep_east1"]
    first = services.convert_lead(make_lead(marketing, owner=rep, short_name="甲"), by=rep).customer
    second = services.convert_lead(
        make_lead(marketing, owner=rep, company_name="乙方科技有限公司"), by=rep
    ).customer
    customer_services.merge_customers(keep=first, merge=second, by=people["manager_east"])
    assert first.source_leads.count() == 2
    assert not Customer.objects.filter(pk=second.pk).exists()


# --- Scope --------------------------------------------------------------------------------------


def test_reps_see_their_own_leads_managers_their_team_marketing_all(people, marketing):
    make_lead(marketing, owner=people["rep_east1"], short_name="甲")
    make_lead(marketing, owner=people["rep_east2"], short_name="乙")
    make_lead(marketing, owner=people["rep_south1"], short_name="丙")

    def names(user):
        return set(Lead.objects.visible_to(user).values_list("short_name", flat=True))

    assert names(people["rep_east1"]) == {"甲"}
    assert names(people["manager_east"]) == {"甲", "乙"}
    assert names(marketing) == names(people["boss"]) == {"甲", "乙", "丙"}
    assert names(people["finance1"]) == set()


# --- Channels and costs -------------------------------------------------------------------------


def test_channel_names_are_unique_among_alive_channels(marketing, website):
    with pytest.raises(ValidationError) as caught:
        services.create_channel(by=marketing, name=" 官网表单 ", kind="website")
    assert _codes(caught.value) == {"name": ["duplicate"]}
    services.delete_channel(website, by=marketing)
    assert services.create_channel(by=marketing, name="官网表单", kind="website").pk


def test_cost_periods_of_a_channel_do_not_overlap(marketing, website, fair):
    services.add_channel_cost(
        website,
        by=marketing,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        amount=Decimal("3100"),
    )
    with pytest.raises(ValidationError) as caught:
        services.add_channel_cost(
            website,
            by=marketing,
            period_start=date(2026, 1, 15),
            period_end=date(2026, 2, 14),
            amount=Decimal("100"),
        )
    assert _codes(caught.value) == {"period_start": ["overlap"]}
    services.add_channel_cost(
        fair,
        by=marketing,
        period_start=date(2026, 1, 15),
        period_end=date(2026, 1, 15),
        amount=Decimal("100"),
    )
    with pytest.raises(ValidationError) as caught:
        services.add_channel_cost(
            fair,
            by=marketing,
            period_start=date(2026, 3, 2),
            period_end=date(2026, 3, 1),
            amount=Decimal("-1"),
        )
    assert "period_end" in caught.value.message_dict


def test_it_computes_cost_per_lead_and_per_customer_within_the_scope(people, marketing, website):
    rep = people["rep_east1"]
    today = timezone.localdate()
    start = today - timedelta(days=9)
    services.add_channel_cost(
        website,
        by=marketing,
        period_start=start,
        period_end=today + timedelta(days=9),
        amount=Decimal("1900"),
    )
    leads = [
        make_lead(marketing, owner=rep, channel=website, short_name=f"客户{i}") for i in range(4)
    ]
    make_lead(marketing, owner=people["rep_south1"], channel=website, short_name="南方")
    services.convert_lead(leads[0], by=rep)
    services.clean_lead(leads[1], kind="junk", reason="广告", by=marketing)
    [figures] = queries.channel_figures(user=marketing, start=start, end=today, channels=[website])
    assert figures.cost == Decimal("1000.00")  # 10 of 19 days
    assert (figures.leads, figures.converted, figures.cleaned, figures.customers) == (5, 1, 1, 1)
    assert figures.cost_per_lead == Decimal("200.00")
    assert figures.cost_per_customer == Decimal("1000.00")
    [mine] = queries.channel_figures(user=rep, start=start, end=today, channels=[website])
    assert mine.leads == 4 and mine.cost is None and mine.cost_per_lead is None


def test_it_gives_the_figures_of_each_of_the_last_months(people, marketing, website):
    today = timezone.localdate()
    this_month = queries.month_start(today)
    last_month = queries.month_start(today, 1)
    services.add_channel_cost(
        website,
        by=marketing,
        period_start=last_month,
        period_end=this_month - timedelta(days=1),
        amount=Decimal("3000"),
    )
    old = make_lead(marketing, channel=website, short_name="上月的")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=today.day + 3))
    make_lead(marketing, channel=website, short_name="本月的")
    months = queries.monthly_figures(user=marketing, channel=website)
    assert [m.start for m in months[:2]] == [this_month, last_month]
    assert [(m.leads, m.cost) for m in months[:2]] == [
        (1, Decimal("0.00")),
        (1, Decimal("3000.00")),
    ]
    assert months[1].cost_per_lead == Decimal("3000.00") and len(months) == 6
