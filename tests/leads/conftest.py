"""Leads fixtures: the demo org with a few channels."""

import pytest

from tests.api.conftest import api_as  # noqa: F401  (the JSON client of the API tests)
from tuoke.leads import services
from tuoke.leads.models import ChannelKind


@pytest.fixture
def marketing(people):
    return people["marketing1"]


@pytest.fixture
def website(people):
    return services.create_channel(
        by=people["marketing1"], name="官网表单", kind=ChannelKind.WEBSITE
    )


@pytest.fixture
def fair(people):
    return services.create_channel(
        by=people["marketing1"], name="上海工博会", kind=ChannelKind.EVENT
    )


def make_lead(by, **facts):
    """A lead with a company name unless given otherwise."""
    facts.setdefault("company_name", "深圳市腾达精密科技有限公司")
    return services.create_lead(by=by, **facts)
