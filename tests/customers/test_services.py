"""Customers and contacts: creation with the duplicate check, scopes and collaborators, the
lifecycle, handover and merge."""

import pytest
from django.core.exceptions import ValidationError

from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict, ErrorCode
from tuoke.core.models import AuditEntry
from tuoke.customers import services
from tuoke.customers.models import Collaborator, Contact, Customer, LifecycleStatus, Tag
from tuoke.org.defaults import ensure_default_roles


def _check(code: str) -> str:
    """A valid credit code for a 17-character body (GB 32100-2015 check character)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(code, weights, strict=True))
    return code + alphabet[(31 - total % 31) % 31]


CODE = _check("91440300MA5DC1234")


@pytest.fixture
def rep(people):
    ensure_default_roles()  # the customers app's grants on top of the demo org
    return people["rep_east1"]


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {f: [e.code for e in errors] for f, errors in exc.error_dict.items()}


def test_it_creates_a_customer_with_keys_contacts_and_history(rep):
    customer = services.create_customer(
        by=rep,
        legal_name="深圳市腾达精密科技有限公司",
        short_name="腾达精密",
        credit_code=CODE.lower(),
        contacts=[{"name": "王强", "mobile": "138 0013 8000", "is_key_person": True}],
    )
    assert customer.owner == rep
    assert customer.credit_code == CODE
    assert customer.name_key == "腾达精密科技"
    assert customer.pinyin_initials == "tdjmkj"
    assert customer.contacts.get().mobile == "+8613800138000"
    assert customer.lifecycle_changes.get().to_status == LifecycleStatus.POTENTIAL
    assert trail_of(customer).first().kind == AuditEntry.Kind.CREATE


def test_it_needs_some_name(rep):
    with pytest.raises(ValidationError) as caught:
        services.create_customer(by=rep, legal_name=" ", short_name="")
    assert "short_name" in caught.value.message_dict


def test_it_refuses_a_wrong_credit_code_with_a_reason(rep):
    with pytest.raises(ValidationError) as caught:
        services.create_customer(by=rep, short_name="腾达", credit_code=CODE[:-1] + "0")
    assert "credit_code" in caught.value.message_dict


@pytest.mark.parametrize(
    ("variant", "field"),
    [
        ({"legal_name": "腾达精密科技（深圳）有限公司"}, "legal_name"),
        ({"legal_name": "廣東省深圳市騰達精密科技有限公司"}, "legal_name"),
        ({"legal_name": "深圳腾达精密科技股份有限公司"}, "legal_name"),
        ({"short_name": "深圳腾达精密科技"}, "short_name"),
        ({"short_name": "别名", "credit_code": CODE}, "credit_code"),
        (
            {"short_name": "别名", "contacts": [{"name": "李", "mobile": "+86 138-0013-8000"}]},
            "contacts",
        ),
    ],
)
def test_it_catches_the_same_company_under_its_variant_spellings(rep, variant, field):
    services.create_customer(
        by=rep,
        legal_name="深圳市腾达精密科技有限公司",
        credit_code=CODE,
        contacts=[{"name": "王强", "mobile": "13800138000"}],
    )
    with pytest.raises(ValidationError) as caught:
        services.create_customer(by=rep, **variant)
    assert _codes(caught.value) == {field: [ErrorCode.DUPLICATE]}
    assert Customer.objects.count() == 1


def test_it_warns_about_similar_names_until_the_user_confirms(rep):
    services.create_customer(by=rep, legal_name="深圳市腾达精密科技有限公司")
    with pytest.raises(ValidationError) as caught:
        services.create_customer(by=rep, legal_name="腾达精蜜科技有限公司")
    assert _codes(caught.value) == {"legal_name": [ErrorCode.SIMILAR]}
    services.create_customer(by=rep, legal_name="腾达精蜜科技有限公司", allow_similar=True)
    assert Customer.objects.count() == 2


def test_it_reports_out_of_scope_matches_without_their_details(people, rep):
    other = services.create_customer(by=people["rep_south1"], legal_name="广州市白云机电有限公司")
    report = services.find_duplicates(user=rep, legal_name="白云机电有限公司")
    assert [c.customer.pk for c in report.same] == [other.pk]
    assert report.same[0].visible is False
    assert (
        services.find_duplicates(user=people["rep_south1"], legal_name="白云机电").same[0].visible
    )


def test_it_lets_reps_see_only_their_own_and_shared_customers(people, rep):
    mine = services.create_customer(by=rep, short_name="甲")
    colleague = services.create_customer(by=people["rep_east2"], short_name="乙")
    south = services.create_customer(by=people["rep_south1"], short_name="丙")
    assert set(Customer.objects.visible_to(rep)) == {mine}
    assert set(Customer.objects.visible_to(people["manager_east"])) == {mine, colleague}
    assert set(Customer.objects.visible_to(people["boss"])) == {mine, colleague, south}
    services.set_collaborator(colleague, user=rep, access="read", by=people["rep_east2"])
    assert set(Customer.objects.visible_to(rep)) == {mine, colleague}
    assert set(Customer.objects.visible_to(rep, "edit")) == {mine}
    services.set_collaborator(colleague, user=rep, access="edit", by=people["rep_east2"])
    assert set(Customer.objects.visible_to(rep, "edit")) == {mine, colleague}
    assert set(Contact.objects.visible_to(rep)) == set()


def test_it_reaches_contacts_through_their_customer(people, rep):
    mine = services.create_customer(by=rep, short_name="甲", contacts=[{"name": "王"}])
    services.create_customer(by=people["rep_south1"], short_name="丙", contacts=[{"name": "陈"}])
    assert [c.name for c in Contact.objects.visible_to(rep)] == ["王"]
    assert mine.contacts.count() == 1


def test_it_refuses_a_stale_edit_and_a_hand_picked_status(rep):
    customer = services.create_customer(by=rep, short_name="甲")
    version = customer.version
    services.update_customer(customer, by=rep, expected_version=version, industry="制造")
    with pytest.raises(Conflict):
        services.update_customer(customer, by=rep, expected_version=version, industry="贸易")
    with pytest.raises(ValidationError):
        services.update_customer(customer, by=rep, lifecycle_status=LifecycleStatus.SIGNED)


def test_it_audits_tag_changes(rep):
    customer = services.create_customer(by=rep, short_name="甲")
    tag = Tag.objects.create(name="重点客户")
    services.update_customer(customer, by=rep, tags=[tag])
    assert trail_of(customer).first().changes[0]["new"] == "重点客户"


def test_it_moves_the_lifecycle_forward_only_on_events(rep):
    customer = services.create_customer(by=rep, short_name="甲")
    assert services.advance_lifecycle(customer, to="intent", cause=services.Cause.OPPORTUNITY_STAGE)
    assert not services.advance_lifecycle(customer, to="potential", cause=services.Cause.FOLLOW_UP)
    assert services.advance_lifecycle(customer, to="signed", cause=services.Cause.FIRST_PAYMENT)
    statuses = list(customer.lifecycle_changes.values_list("to_status", flat=True))
    assert statuses == ["signed", "intent", "potential"]
    assert Customer.objects.get(pk=customer.pk).lifecycle_status == "signed"


def test_it_lets_a_manager_override_the_status_with_a_reason(people, rep):
    customer = services.create_customer(by=rep, short_name="甲")
    with pytest.raises(ValidationError):
        services.override_lifecycle(customer, to="churned", reason="倒闭", by=rep)
    with pytest.raises(ValidationError) as caught:
        services.override_lifecycle(customer, to="churned", reason=" ", by=people["manager_east"])
    assert "reason" in caught.value.message_dict
    services.override_lifecycle(
        customer, to="churned", reason="客户已倒闭", by=people["manager_east"]
    )
    change = customer.lifecycle_changes.first()
    assert (change.to_status, change.cause, change.reason) == ("churned", "override", "客户已倒闭")


def test_it_transfers_customers_with_a_reason_audited(people, rep):
    first = services.create_customer(by=rep, short_name="甲")
    second = services.create_customer(by=rep, short_name="乙")
    with pytest.raises(ValidationError):
        services.transfer_customers([first], to=people["rep_east2"], reason="", by=people["admin"])
    moved = services.transfer_customers(
        [first, second], to=people["rep_east2"], reason="张伟离职", by=people["manager_east"]
    )
    assert moved == 2
    assert set(Customer.objects.visible_to(people["rep_east2"])) == {first, second}
    entry = trail_of(first).first()
    assert entry.changes[0]["new"] == "刘洋" and "张伟离职" in entry.note


def test_it_merges_two_customers_losing_nothing(people, rep):
    keep = services.create_customer(
        by=rep, short_name="腾达", contacts=[{"name": "王强", "mobile": "13800138000"}]
    )
    merge = services.create_customer(
        by=rep,
        legal_name="深圳市腾达精密科技有限公司",
        credit_code=CODE,
        contacts=[{"name": "李娜", "email": "li@tengda.cn"}],
        allow_similar=True,
    )
    services.set_collaborator(merge, user=people["rep_east2"], access="edit", by=rep)
    merged = services.merge_customers(keep=keep, merge=merge, by=rep)
    assert sorted(c.name for c in merged.contacts.all()) == ["李娜", "王强"]
    assert merged.legal_name == "深圳市腾达精密科技有限公司"
    assert merged.credit_code == CODE
    assert Collaborator.objects.get(customer=keep).user == people["rep_east2"]
    merge = Customer.all_objects.get(pk=merge.pk)
    assert merge.is_deleted
    assert trail_of(merge).count() >= 2  # its own history is kept
    assert "Merged" in trail_of(keep).first().note


def test_it_refuses_a_contact_with_a_mobile_another_contact_has(rep):
    customer = services.create_customer(by=rep, short_name="甲")
    services.create_contact(customer, by=rep, name="王", mobile="13800138000")
    with pytest.raises(ValidationError) as caught:
        services.create_contact(customer, by=rep, name="李", mobile="+86 138 0013 8000")
    assert _codes(caught.value) == {"mobile": [ErrorCode.DUPLICATE]}
    with pytest.raises(ValidationError) as caught:
        services.create_contact(customer, by=rep, name="赵", mobile="12345")
    assert "mobile" in caught.value.message_dict


def test_it_leaves_handover_to_managers(people, rep):
    from django.core.exceptions import PermissionDenied

    mine = services.create_customer(by=rep, short_name="甲")
    with pytest.raises(PermissionDenied):
        services.transfer_customers([mine], to=people["rep_east2"], reason="换人", by=rep)
    assert Customer.objects.get(pk=mine.pk).owner == rep


def test_an_edit_of_custom_values_alone_is_saved_and_audited(rep):
    from tuoke.core import custom_fields

    custom_fields.create_custom_field(
        target="customer", key="erp_number", label="ERP 编号", kind="text", by=None
    )
    customer = services.create_customer(by=rep, short_name="腾达", custom={"erp_number": "E1"})
    version = customer.version
    services.update_customer(customer, by=rep, custom={"erp_number": "E2"})
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.custom == {"erp_number": "E2"}
    assert stored.version == version + 1
    entry = trail_of(stored).filter(kind=AuditEntry.Kind.UPDATE).first()
    assert entry.changes == [
        {"field": "custom.erp_number", "label": "ERP 编号", "old": "E1", "new": "E2"}
    ]
    services.update_customer(stored, by=rep, custom={"erp_number": "E2"})  # no change
    assert Customer.objects.get(pk=customer.pk).version == version + 1
