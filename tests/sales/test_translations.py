"""Words the sales app shares with other apps in English but not in Chinese: an opportunity's
"Open" (进行中, a task's is 未完成) and a product's unit of measure (单位, an org unit is 部门)."""

import pytest
from django.utils import translation

from tuoke.sales.config import create_product
from tuoke.sales.forms_settings import ProductForm
from tuoke.sales.models import OpportunityStatus, Product, StageKind

pytestmark = pytest.mark.django_db


def test_an_open_opportunity_is_in_progress_not_an_unfinished_task():
    with translation.override("zh-hans"):
        assert str(OpportunityStatus.OPEN.label) == "进行中"
        assert str(StageKind.OPEN.label) == "进行中"
        assert translation.gettext("Open") == "未完成"
    with translation.override("en"):
        assert str(OpportunityStatus.OPEN.label) == "Open"


def test_a_products_unit_is_a_unit_of_measure_not_an_org_unit(admin_user, login):
    with translation.override("zh-hans"):
        assert str(Product._meta.get_field("unit").verbose_name) == "单位"
        assert str(ProductForm.base_fields["unit"].label) == "单位"
        assert translation.gettext("Unit") == "部门"
    create_product(name="视觉检测站", unit="台", by=admin_user)
    client = login(admin_user)
    # The locale middleware leaves the request's language active: put it back afterwards.
    with translation.override("en"):
        html = client.get("/sales/products/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<th>单位</th>" in html
    assert 'data-label="单位">台<' in html
    assert "<th>部门</th>" not in html
