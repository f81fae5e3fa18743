"""The contract settings page: the credit rule, the renewal reminder and the numbering with
the preview of the next number; administrators only, every change audited."""

from django.utils import timezone

from tuoke.contracts import services
from tuoke.contracts.models import ContractSettings
from tuoke.core.models import AuditEntry, Sequence


def _html(response) -> str:
    return response.content.decode()


def _post(**overrides):
    data = {
        "credit_rule": "payment",
        "renewal_horizon_days": "60",
        "number_pattern": "HT{yyyy}{mm}-{seq:04}",
        "number_reset": "yearly",
    }
    data.update(overrides)
    return data


def test_it_shows_the_settings_with_the_next_number(people, login):
    response = login(people["admin"]).get("/contracts/settings/")
    html = _html(response)
    assert response.status_code == 200
    assert 'data-testid="credit-rule-payment"' in html
    assert 'value="payment" class="form-check-input mt-1" checked' in html
    assert 'value="60"' in html
    today = timezone.localdate()
    assert f"HT{today:%Y%m}-0001" in html
    assert 'hx-get="/contracts/settings/preview/"' in html


def test_it_refuses_the_settings_to_who_does_not_administer_contracts(people, login):
    for username in ("rep_east1", "manager_east", "finance1", "boss"):
        client = login(people[username])
        assert client.get("/contracts/settings/").status_code == 403, username
        assert client.post("/contracts/settings/", _post()).status_code == 403, username
        assert client.get("/contracts/settings/preview/").status_code == 403, username
    assert ContractSettings.current().credit_rule == "payment"


def test_it_saves_the_settings_and_audits_them(people, login):
    client = login(people["admin"])
    response = client.post(
        "/contracts/settings/",
        _post(
            credit_rule="approval",
            renewal_horizon_days="30",
            number_pattern="XS-{yyyy}-{seq:05}",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/contracts/settings/"
    current = ContractSettings.current()
    assert (current.credit_rule, current.renewal_horizon_days) == ("approval", 30)
    sequence = Sequence.objects.get(key="contract")
    assert (sequence.pattern, sequence.reset) == ("XS-{yyyy}-{seq:05}", "yearly")
    assert AuditEntry.objects.filter(object_id=current.pk, actor=people["admin"]).exists()
    html = _html(client.get("/contracts/settings/"))
    assert 'data-testid="audit-trail"' in html
    assert html.count('data-testid="audit-entry"') == 2  # the settings and the numbering
    assert f"XS-{timezone.localdate():%Y}-00001" in html
    # The next contract takes its number from the new pattern.
    assert services.next_number() == f"XS-{timezone.localdate():%Y}-00001"


def test_it_shows_errors_at_their_fields(people, login):
    client = login(people["admin"])
    response = client.post(
        "/contracts/settings/",
        _post(renewal_horizon_days="0", number_pattern="HT-{foo}"),
    )
    assert response.status_code == 400
    html = _html(response)
    assert 'data-field-error="renewal_horizon_days"' in html
    # The form's own checks first; the numbering is the service's.
    response = client.post("/contracts/settings/", _post(number_pattern="HT-{foo}"))
    assert response.status_code == 400
    html = _html(response)
    assert 'data-field-error="number_pattern"' in html
    assert "Unknown placeholder" in html
    response = client.post(
        "/contracts/settings/", _post(number_pattern="HT-{seq}", number_reset="monthly")
    )
    assert 'data-field-error="number_pattern"' in _html(response)
    assert not Sequence.objects.filter(key="contract", pattern="HT-{seq}").exists()


def test_it_previews_the_next_number_as_the_pattern_is_typed(people, login):
    client = login(people["admin"])
    today = timezone.localdate()
    response = client.get(
        "/contracts/settings/preview/",
        {"number_pattern": "XS{yy}{seq:03}", "number_reset": "never"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'data-testid="number-preview">XS{today:%y}001<' in _html(response)
    response = client.get(
        "/contracts/settings/preview/", {"number_pattern": "XS", "number_reset": "never"}
    )
    assert 'data-testid="number-preview-error"' in _html(response)


def test_it_previews_the_counter_going_on_within_its_period(people, login):
    services.next_number()
    services.next_number()
    client = login(people["admin"])
    today = timezone.localdate()
    response = client.get(
        "/contracts/settings/preview/",
        {"number_pattern": "HT{yyyy}{mm}-{seq:04}", "number_reset": "yearly"},
    )
    assert f"HT{today:%Y%m}-0003" in _html(response)
    # Restarting monthly instead: the counter starts again with the new period's numbers.
    response = client.get(
        "/contracts/settings/preview/",
        {"number_pattern": "HT{yyyy}{mm}-{seq:04}", "number_reset": "monthly"},
    )
    assert f"HT{today:%Y%m}-0001" in _html(response)
