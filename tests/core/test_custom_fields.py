"""Custom fields: the definition services, and validating, storing, showing, editing,
filtering and describing the values records keep in their ``custom`` JSON."""

from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import translation

from tuoke.core import custom_fields as cf
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry, CustomField
from tuoke.core.scope import can, record_types

Kind = CustomField.Kind


class Widget(cf.HasCustomFields):
    """A record type that exists only in these tests, to filter a real table (the customers
    issue brings the first real one)."""

    custom_fields_target = "test_widget"
    name = models.CharField(max_length=20)

    class Meta:
        app_label = "core"
        managed = False
        db_table = "test_custom_fields_widget"


@pytest.fixture
def customer(monkeypatch):
    """Registers the record type "customer" for custom fields while a test runs."""
    monkeypatch.setitem(cf.CUSTOM_FIELD_TARGETS, "customer", "customers")
    return "customer"


def _field(target="customer", key="erp_number", kind=Kind.TEXT, by=None, **extra):
    extra.setdefault("label", key.replace("_", " "))
    return cf.create_custom_field(target=target, key=key, kind=kind, by=by, **extra)


@pytest.fixture
def all_kinds(db, customer):
    """One field of each kind on customers, in this order."""
    return [
        _field(key="erp_number", label="ERP 编号", kind=Kind.TEXT, sort_order=1),
        _field(key="notes", kind=Kind.LONG_TEXT, sort_order=2),
        _field(key="headcount", kind=Kind.NUMBER, sort_order=3),
        _field(key="credit_limit", kind=Kind.MONEY, sort_order=4),
        _field(key="founded_on", kind=Kind.DATE, sort_order=5),
        _field(key="segment", kind=Kind.CHOICE, choices=["制造", "零售"], sort_order=6),
        _field(key="channels", kind=Kind.MULTI_CHOICE, choices=["线上", "线下"], sort_order=7),
        _field(key="is_listed", kind=Kind.BOOLEAN, sort_order=8),
    ]


def _codes(exc: ValidationError) -> dict[str, list[str]]:
    return {key: [e.code for e in errors] for key, errors in exc.error_dict.items()}


# --- Definitions -------------------------------------------------------------------------------


def test_it_creates_a_field_and_audits_it(people, customer):
    field = _field(by=people["admin"], label="ERP 编号")
    assert (field.target, field.key, field.kind, field.version) == (
        "customer",
        "erp_number",
        "text",
        1,
    )
    entry = trail_of(field).get()
    assert entry.kind == AuditEntry.Kind.CREATE
    assert entry.actor == people["admin"]
    assert {c["field"] for c in entry.changes} >= {"target", "key", "label", "kind"}


def test_it_is_a_record_type_administrators_run_and_everyone_reads(people):
    assert record_types()["custom_field"] is CustomField
    assert can(people["admin"], "custom_field", "administer")
    assert can(people["rep_east1"], "custom_field", "view")
    assert not can(people["rep_east1"], "custom_field", "edit")
    assert not can(people["boss"], "custom_field", "administer")


def test_it_refuses_a_record_type_without_custom_fields(db):
    with pytest.raises(ValidationError) as caught:
        _field(target="spaceship")
    assert _codes(caught.value) == {"target": ["invalid"]}


def test_it_accepts_the_record_types_of_models_using_the_mixin(db):
    assert cf.accepts_custom_fields()["test_widget"] is Widget
    assert "test_widget" in cf.targets()
    assert _field(target="test_widget").target == "test_widget"


def test_it_refuses_a_key_that_is_not_a_slug(db, customer):
    for key in ("ERP", "erp number", "1st", "编号", ""):
        with pytest.raises(ValidationError) as caught:
            _field(key=key, label="x")
        assert "key" in caught.value.error_dict, key


def test_it_keeps_keys_unique_per_record_type(db, customer, monkeypatch):
    monkeypatch.setitem(cf.CUSTOM_FIELD_TARGETS, "contact", "contacts")
    _field()
    with pytest.raises(ValidationError) as caught:
        _field()
    assert _codes(caught.value) == {"key": ["duplicate"]}
    assert _field(target="contact").key == "erp_number"


def test_it_keeps_the_key_of_a_deleted_field_taken_so_its_values_are_not_misread(db, customer):
    field = _field()
    cf.delete_custom_field(field, by=None)
    with pytest.raises(ValidationError) as caught:
        _field()
    assert _codes(caught.value) == {"key": ["duplicate"]}
    assert "recycle bin" in caught.value.messages[0]


def test_it_wants_choices_for_choice_kinds_and_drops_them_for_others(db, customer):
    with pytest.raises(ValidationError) as caught:
        _field(kind=Kind.CHOICE, choices=["", "  "])
    assert _codes(caught.value) == {"choices": ["required"]}
    field = _field(kind=Kind.MULTI_CHOICE, choices=[" 线上 ", "线下", "线上"])
    assert field.choices == ["线上", "线下"]
    assert _field(key="plain", choices=["a"]).choices == []


def test_it_changes_label_choices_and_flags_with_a_version_check(db, customer):
    field = _field(kind=Kind.CHOICE, choices=["A", "B"])
    cf.update_custom_field(
        field, by=None, expected_version=1, label="新名称", choices=["A"], required=True
    )
    field.refresh_from_db()
    assert (field.label, field.choices, field.required, field.version) == ("新名称", ["A"], True, 2)
    with pytest.raises(Conflict):
        cf.update_custom_field(field, by=None, expected_version=1, label="旧")


def test_it_never_changes_target_key_or_kind(db, customer):
    field = _field()
    for name, value in (("key", "other"), ("kind", Kind.NUMBER), ("target", "contact")):
        with pytest.raises(ValidationError) as caught:
            cf.update_custom_field(field, by=None, **{name: value})
        assert _codes(caught.value) == {name: ["invalid"]}
    # Sending the same value back (as a form with every field does) is fine.
    cf.update_custom_field(field, by=None, key="erp_number", kind="text", label="ERP")
    field.refresh_from_db()
    assert (field.key, field.kind, field.label) == ("erp_number", "text", "ERP")


def test_it_hides_a_deleted_field_and_brings_it_back_with_the_values(db, customer):
    field = _field()
    _field(key="segment", kind=Kind.CHOICE, choices=["A"])
    stored = {"erp_number": "E-1", "segment": "A"}
    cf.delete_custom_field(field, by=None)
    assert [f.key for f in cf.fields_for("customer")] == ["segment"]
    assert "custom__erp_number" not in cf.form_fields("customer")
    assert "erp_number" not in cf.api_schema_properties("customer")
    # Saving a record meanwhile keeps the deleted field's value…
    kept = cf.apply_values(stored, cf.clean_values("customer", {"segment": None}))
    assert kept == {"erp_number": "E-1"}
    # …and unknown to validation, it cannot be written.
    with pytest.raises(ValidationError):
        cf.clean_values("customer", {"erp_number": "E-2"})
    cf.restore_custom_field(CustomField.all_objects.get(pk=field.pk), by=None)
    assert [k for k, _text in [(f.key, t) for f, t in cf.shown_values("customer", kept)]] == [
        "erp_number",
        "segment",
    ]
    assert cf.shown_values("customer", kept)[0][1] == "E-1"


def test_it_lists_fields_in_their_order_read_once_per_change(
    all_kinds, admin_user, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the directory's fingerprint, the definitions
        keys = [f.key for f in cf.fields_for("customer")]
    assert keys == [f.key for f in all_kinds]
    with django_assert_num_queries(1):  # the fingerprint: the definitions come from the cache
        assert [f.key for f in cf.fields_for("customer")] == keys
    # A change is read at once, whichever process made it (it moves the fingerprint).
    cf.update_custom_field(all_kinds[0], by=admin_user, label="ERP 代码")
    assert cf.fields_for("customer")[0].label == "ERP 代码"
    cf.delete_custom_field(all_kinds[1], by=admin_user)
    assert "notes" not in [f.key for f in cf.fields_for("customer")]


# --- clean_values ------------------------------------------------------------------------------


def test_it_converts_every_kind_to_its_json_form(all_kinds):
    cleaned = cf.clean_values(
        "customer",
        {
            "erp_number": "  E-1001 ",
            "notes": "第一行\n第二行",
            "headcount": "1,200",
            "credit_limit": 1234.5,
            "founded_on": "2026-11-22",
            "segment": "制造",
            "channels": ["线下", "线上", "线下"],
            "is_listed": False,
        },
    )
    assert cleaned == {
        "erp_number": "E-1001",
        "notes": "第一行\n第二行",
        "headcount": "1200",
        "credit_limit": "1234.50",
        "founded_on": "2026-11-22",
        "segment": "制造",
        "channels": ["线下", "线上"],
        "is_listed": False,
    }


def test_it_keeps_the_precision_of_numbers_and_money(all_kinds):
    cleaned = cf.clean_values(
        "customer",
        {"headcount": Decimal("0.100000"), "credit_limit": "99999999999999.99"},
        partial=True,
    )
    assert cleaned == {"headcount": "0.1", "credit_limit": "99999999999999.99"}
    assert cf.clean_values("customer", {"founded_on": date(2026, 1, 2)}, partial=True) == {
        "founded_on": "2026-01-02"
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("erp_number", 12),
        ("erp_number", "x" * 501),
        ("headcount", "twelve"),
        ("headcount", "NaN"),
        ("headcount", True),
        ("headcount", "1e20"),
        ("headcount", "0.1234567"),
        ("credit_limit", "10.005"),
        ("founded_on", "2026-02-30"),
        ("founded_on", "22/11/2026"),
        ("founded_on", 20261122),
        ("segment", "金融"),
        ("channels", "线上"),
        ("channels", ["线上", "电话"]),
        ("is_listed", "yes"),
    ],
)
def test_it_names_the_field_of_a_bad_value(all_kinds, key, value):
    with pytest.raises(ValidationError) as caught:
        cf.clean_values("customer", {key: value}, partial=True)
    assert _codes(caught.value) == {f"custom.{key}": ["invalid"]}
    assert caught.value.error_dict[f"custom.{key}"][0].messages[0]


def test_it_reports_unknown_keys_and_every_bad_field_at_once(all_kinds):
    with pytest.raises(ValidationError) as caught:
        cf.clean_values("customer", {"nope": 1, "headcount": "x", "segment": "金融"}, partial=True)
    assert _codes(caught.value) == {
        "custom.nope": ["invalid"],
        "custom.headcount": ["invalid"],
        "custom.segment": ["invalid"],
    }


def test_it_wants_required_values_unless_partial(all_kinds):
    cf.update_custom_field(all_kinds[0], by=None, required=True)
    cf.update_custom_field(all_kinds[-1], by=None, required=True)
    with pytest.raises(ValidationError) as caught:
        cf.clean_values("customer", {"erp_number": "  ", "headcount": "3"})
    assert _codes(caught.value) == {
        "custom.erp_number": ["required"],
        "custom.is_listed": ["required"],
    }
    assert cf.clean_values("customer", {"headcount": "3"}, partial=True) == {"headcount": "3"}
    with pytest.raises(ValidationError) as caught:
        cf.clean_values("customer", {"erp_number": None}, partial=True)
    assert _codes(caught.value) == {"custom.erp_number": ["required"]}
    # "No" is an answer.
    full = cf.clean_values("customer", {"erp_number": "E", "is_listed": False})
    assert full["is_listed"] is False and full["notes"] is None


def test_it_lets_a_record_keep_a_choice_that_was_removed(all_kinds):
    segment, channels = all_kinds[5], all_kinds[6]
    cf.update_custom_field(segment, by=None, choices=["零售"])
    cf.update_custom_field(channels, by=None, choices=["线上"])
    stored = {"segment": "制造", "channels": ["线上", "线下"]}
    assert cf.clean_values("customer", stored, partial=True, current=stored) == stored
    with pytest.raises(ValidationError):
        cf.clean_values("customer", {"segment": "制造"}, partial=True)
    assert cf.display_value(segment, "制造") == "制造"


def test_it_merges_values_into_the_stored_json():
    stored = {"a": "1", "b": "2", "gone": "kept"}
    assert cf.apply_values(stored, {"a": "9", "b": None, "c": True}) == {
        "a": "9",
        "gone": "kept",
        "c": True,
    }
    assert stored == {"a": "1", "b": "2", "gone": "kept"}


# --- display_value -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            [
                "E-1",
                "两行",
                "1,234,567.25",
                "1,234,567.50",
                "2026-11-22",
                "制造",
                "线上、线下",
                "是",
            ],
        ),
        (
            "en",
            [
                "E-1",
                "两行",
                "1,234,567.25",
                "1,234,567.50",
                "2026-11-22",
                "制造",
                "线上, 线下",
                "Yes",
            ],
        ),
    ],
)
def test_it_shows_values_in_the_readers_language(all_kinds, language, expected):
    raw = ["E-1", "两行", "1234567.25", "1234567.5", "2026-11-22", "制造", ["线上", "线下"], True]
    with translation.override(language):
        assert [cf.display_value(f, v) for f, v in zip(all_kinds, raw, strict=True)] == expected
        assert cf.display_value(all_kinds[-1], False) == ("否" if language == "zh-hans" else "No")


def test_it_shows_empty_and_odd_values_without_failing(all_kinds):
    number, money, day = all_kinds[2], all_kinds[3], all_kinds[4]
    assert [cf.display_value(f, None) for f in all_kinds] == [""] * len(all_kinds)
    assert cf.display_value(number, "-1234.5") == "-1,234.5"
    assert cf.display_value(number, "0.001") == "0.001"
    assert cf.display_value(money, "abc") == "abc"
    assert cf.display_value(day, "someday") == "someday"


def test_it_shows_only_list_fields_in_list_rows(all_kinds):
    cf.update_custom_field(all_kinds[0], by=None, show_in_list=True)
    rows = cf.shown_values("customer", {"erp_number": "E-1", "headcount": "3"}, list_only=True)
    assert [(f.key, text) for f, text in rows] == [("erp_number", "E-1")]


def test_it_shows_only_alive_fields_values_in_field_order(all_kinds, django_assert_num_queries):
    stored = {"is_listed": True, "erp_number": "E-1", "old_key": "kept"}
    assert list(cf.visible_values("customer", stored)) == ["erp_number", "is_listed"]
    cf.delete_custom_field(all_kinds[0], by=None)
    with django_assert_num_queries(0):
        shown = cf.visible_values("customer", stored, fields=all_kinds[1:])
    assert shown == {"is_listed": True}
    assert cf.visible_values("customer", stored) == {"is_listed": True}
    assert cf.visible_values("customer", None) == {}


def test_it_reads_the_definitions_once_per_request(all_kinds, rf, django_assert_num_queries):
    request = rf.get("/")
    with django_assert_num_queries(2):  # the directory's fingerprint, the definitions
        first = cf.fields_for_request(request, "customer")
        assert cf.fields_for_request(request, "customer") is first
    assert [f.key for f in first] == [f.key for f in all_kinds]
    with django_assert_num_queries(2):  # the fingerprint each time, the definitions cached
        cf.fields_for_request(None, "customer")
        cf.fields_for_request(rf.get("/"), "customer")


# --- Forms -------------------------------------------------------------------------------------


def test_it_makes_a_form_field_per_kind(all_kinds):
    cf.update_custom_field(all_kinds[0], by=None, required=True, help_text="ERP 系统里的编号")
    fields = cf.form_fields("customer")
    assert list(fields) == [f"custom__{f.key}" for f in all_kinds]
    erp = fields["custom__erp_number"]
    assert isinstance(erp, forms.CharField) and erp.required
    assert (erp.label, erp.help_text) == ("ERP 编号", "ERP 系统里的编号")
    assert isinstance(fields["custom__notes"].widget, forms.Textarea)
    assert fields["custom__notes"].widget.attrs["rows"] == 3
    assert isinstance(fields["custom__headcount"], forms.DecimalField)
    assert fields["custom__credit_limit"].decimal_places == 2
    assert fields["custom__founded_on"].widget.input_type == "date"
    segment = fields["custom__segment"]
    assert isinstance(segment.widget, forms.Select)
    assert segment.choices == [("", "—"), ("制造", "制造"), ("零售", "零售")]
    assert isinstance(fields["custom__channels"].widget, forms.CheckboxSelectMultiple)
    assert isinstance(fields["custom__is_listed"], forms.BooleanField)
    assert not fields["custom__is_listed"].required


def test_it_round_trips_values_through_a_form(all_kinds):
    stored = {
        "erp_number": "E-1001",
        "notes": "备注",
        "headcount": "1200",
        "credit_limit": "1234.50",
        "founded_on": "2026-11-22",
        "segment": "制造",
        "channels": ["线上"],
        "is_listed": True,
    }
    form_class = type("CustomerForm", (forms.Form,), dict(cf.form_fields("customer")))
    unbound = form_class(initial=cf.initial_values("customer", stored))
    html = unbound.as_div()
    assert 'value="2026-11-22"' in html and 'type="date"' in html
    data = {
        name: unbound[name].value()
        for name in unbound.fields
        if unbound[name].value() not in (None, False)
    }
    form = form_class(data)
    assert form.is_valid(), form.errors
    assert cf.apply_values({}, cf.values_from_form("customer", form.cleaned_data)) == stored


def test_it_clears_values_emptied_in_a_form(all_kinds):
    form_class = type("CustomerForm", (forms.Form,), dict(cf.form_fields("customer")))
    form = form_class({"custom__erp_number": "", "custom__segment": ""})
    assert form.is_valid(), form.errors
    values = cf.values_from_form("customer", form.cleaned_data)
    assert values["erp_number"] is None and values["is_listed"] is False
    stored = {"erp_number": "E-1", "segment": "制造", "old_field": "kept"}
    assert cf.apply_values(stored, values) == {"old_field": "kept", "is_listed": False}


def test_it_refuses_bad_input_in_the_form(all_kinds):
    form_class = type("CustomerForm", (forms.Form,), dict(cf.form_fields("customer")))
    form = form_class(
        {"custom__headcount": "x", "custom__founded_on": "2026-13-01", "custom__segment": "金融"}
    )
    assert not form.is_valid()
    assert set(form.errors) == {"custom__headcount", "custom__founded_on", "custom__segment"}


def test_it_offers_a_removed_choice_to_the_records_holding_it(all_kinds):
    cf.update_custom_field(all_kinds[5], by=None, choices=["零售"])
    field = cf.form_fields("customer", current={"segment": "制造"})["custom__segment"]
    assert ("制造", "制造") in field.choices
    assert ("制造", "制造") not in cf.form_fields("customer")["custom__segment"].choices


# --- Filters -----------------------------------------------------------------------------------


def test_it_builds_list_filters_from_query_parameters(all_kinds):
    q = cf.custom_filter_q(
        "customer",
        {"cf_erp_number": "E-1", "cf_segment": "制造", "cf_is_listed": "true", "other": "x"},
    )
    lookups = dict(q.children)
    assert lookups == {
        "custom__erp_number__icontains": "E-1",
        "custom__segment": "制造",
        "custom__is_listed": True,
    }


def test_it_ignores_empty_and_bad_filter_values(all_kinds):
    params = {
        "cf_erp_number": " ",
        "cf_is_listed": "maybe",
        "cf_headcount_min": "many",
        "cf_founded_on_max": "tomorrow",
    }
    assert cf.custom_filter_q("customer", params) == cf.models.Q()


@pytest.fixture
def widgets(transactional_db):
    """A real table of records with custom values, on whichever database the tests run."""
    with connection.schema_editor() as editor:
        editor.create_model(Widget)
    fields = [
        _field("test_widget", "code", Kind.TEXT),
        _field("test_widget", "segment", Kind.CHOICE, choices=["制造", "零售"]),
        _field("test_widget", "channels", Kind.MULTI_CHOICE, choices=["线上", "线下", 'x"y']),
        _field("test_widget", "listed", Kind.BOOLEAN),
        _field("test_widget", "headcount", Kind.NUMBER),
        _field("test_widget", "limit", Kind.MONEY),
        _field("test_widget", "founded_on", Kind.DATE),
    ]
    rows = {
        "a": {"code": "ERP-Alpha 华东", "segment": "制造", "channels": ["线上"], "listed": True,
              "headcount": "9", "limit": "100.00", "founded_on": "2020-01-31"},
        "b": {"code": "erp-beta", "segment": "零售", "channels": ["线上", "线下"], "listed": False,
              "headcount": "120", "limit": "2500.50", "founded_on": "2026-11-22"},
        "c": {"channels": ["x\"y"]},
    }  # fmt: skip
    for name, values in rows.items():
        Widget.objects.create(
            name=name,
            custom=cf.apply_values({}, cf.clean_values("test_widget", values, partial=True)),
        )
    yield fields
    with connection.schema_editor() as editor:
        editor.delete_model(Widget)


def _names(params):
    found = cf.filter_queryset(Widget.objects.all(), "test_widget", params)
    return sorted(found.values_list("name", flat=True))


def test_it_filters_a_real_table_on_the_json_values(widgets):
    assert _names({}) == ["a", "b", "c"]
    assert _names({"cf_code": "erp-"}) == ["a", "b"]
    assert _names({"cf_code": "ALPHA"}) == ["a"]
    assert _names({"cf_code": "华东"}) == ["a"]
    assert _names({"cf_segment": "零售"}) == ["b"]
    assert _names({"cf_channels": "线上"}) == ["a", "b"]
    assert _names({"cf_channels": "线下"}) == ["b"]
    assert _names({"cf_channels": 'x"y'}) == ["c"]
    assert _names({"cf_listed": "1"}) == ["a"]
    assert _names({"cf_listed": "false"}) == ["b"]
    assert _names({"cf_segment": "制造", "cf_listed": "true"}) == ["a"]


def test_it_filters_number_money_and_date_ranges(widgets):
    # Numerically, not as text ("9" < "120").
    assert _names({"cf_headcount_min": "10"}) == ["b"]
    assert _names({"cf_headcount_max": "100"}) == ["a"]
    assert _names({"cf_limit_min": "100", "cf_limit_max": "2500.50"}) == ["a", "b"]
    assert _names({"cf_limit_min": "100.01"}) == ["b"]
    assert _names({"cf_founded_on_min": "2021-01-01"}) == ["b"]
    assert _names({"cf_founded_on_max": "2020-01-31"}) == ["a"]


# --- API schema --------------------------------------------------------------------------------


def test_it_describes_the_custom_object_for_the_api(all_kinds):
    cf.update_custom_field(all_kinds[0], by=None, required=True, help_text="ERP 系统里的编号")
    properties = cf.api_schema_properties("customer")
    assert properties["erp_number"] == {
        "type": "string",
        "maxLength": 500,
        "title": "ERP 编号",
        "description": "ERP 系统里的编号",
    }
    assert properties["headcount"]["format"] == "decimal"
    assert properties["credit_limit"] == {
        "type": "string",
        "format": "decimal",
        "title": "credit limit",
    }
    assert properties["founded_on"]["format"] == "date"
    assert properties["segment"]["enum"] == ["制造", "零售"]
    assert properties["channels"]["items"]["enum"] == ["线上", "线下"]
    assert properties["is_listed"]["type"] == "boolean"
    schema = cf.api_schema("customer")
    assert schema["required"] == ["erp_number"]
    assert schema["additionalProperties"] is False
