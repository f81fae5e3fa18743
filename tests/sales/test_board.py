"""The deal board: its figures against a hand count, the scope, the filters, the query
count, and the moves, wins and losses its cards make through the services."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.sales import records
from tuoke.customers.services import create_customer
from tuoke.sales import board as board_query
from tuoke.sales.models import LostReason, Opportunity, StageVisit

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def pipeline(db):
    return records.pipeline()


@pytest.fixture
def east_customer(rep_east):
    return create_customer(by=rep_east, short_name="腾达精密", contacts=[{"name": "王强"}])


@pytest.fixture
def east2_customer(rep_east2):
    return create_customer(by=rep_east2, short_name="华信电子", contacts=[{"name": "李娜"}])


@pytest.fixture
def deals(pipeline, rep_east, rep_east2, people, east_customer, east2_customer):
    """Hand-countable deals: 张伟 (rep_east1) two in 初步接洽 (100 and none) and one in
    方案报价 (1000, closing 2025-03-10); 刘洋 (rep_east2) one in 初步接洽 (50); 黄敏
    (rep_south1) one in 初步接洽 (100000); one of 张伟's won (300)."""
    made = {
        "a": records.opportunity(rep_east, east_customer, title="甲", amount="100"),
        "b": records.opportunity(rep_east, east_customer, title="乙"),
        "c": records.opportunity(
            rep_east, east_customer, title="丙", stage_name="方案报价", amount="1000"
        ),
        "d": records.opportunity(rep_east2, east2_customer, title="丁", amount="50"),
        "south": records.south_opportunity(people),
        "won": records.opportunity(rep_east, east_customer, title="戊", amount="300"),
    }
    Opportunity.objects.filter(pk=made["c"].pk).update(expected_close_date=date(2025, 3, 10))
    won = records.stage("赢单")
    Opportunity.objects.filter(pk=made["won"].pk).update(stage=won, status="won")
    return made


def _column(board, name):
    return next(c for c in board.all_columns if c.stage.name == name)


def _titles(column):
    return {c.title for c in column.cards}


# --- board_data -----------------------------------------------------------------------------


def test_it_totals_each_stage_as_a_hand_count(manager_east, pipeline, deals):
    board = board_query.board_data(manager_east, pipeline)
    first = _column(board, "初步接洽")
    assert (first.count, first.amount, first.weighted_amount) == (
        3,
        Decimal("150.00"),
        Decimal("15.00"),
    )
    assert _titles(first) == {"甲", "乙", "丁"}
    offer = _column(board, "方案报价")
    assert (offer.count, offer.amount, offer.weighted_amount) == (
        1,
        Decimal("1000.00"),
        Decimal("500.00"),
    )
    assert (_column(board, "需求确认").count, _column(board, "需求确认").amount) == (0, 0)
    assert (board.won.count, board.won.amount) == (1, Decimal("300.00"))
    assert board.lost.count == 0
    assert [c.stage.name for c in board.columns] == ["初步接洽", "需求确认", "方案报价", "商务谈判"]
    assert (board.open_count, board.open_amount, board.open_weighted_amount) == (
        4,
        Decimal("1150.00"),
        Decimal("515.00"),
    )


def test_it_shows_a_rep_his_own_deals_and_the_boss_everyones(rep_east, boss, pipeline, deals):
    mine = _column(board_query.board_data(rep_east, pipeline), "初步接洽")
    assert (mine.count, mine.amount, _titles(mine)) == (2, Decimal("100.00"), {"甲", "乙"})
    everyone = _column(board_query.board_data(boss, pipeline), "初步接洽")
    assert (everyone.count, everyone.amount) == (4, Decimal("100150.00"))


def test_it_filters_by_owner_unit_and_close_month(
    manager_east, boss, rep_east2, people, pipeline, deals
):
    by_owner = board_query.board_data(manager_east, pipeline, {"owner": rep_east2})
    assert _titles(_column(by_owner, "初步接洽")) == {"丁"}
    assert by_owner.open_count == 1
    south = board_query.board_data(boss, pipeline, {"unit": people["rep_south1"].unit})
    assert (south.open_count, _titles(_column(south, "初步接洽"))) == (1, {"南方商机"})
    sales_dept = board_query.board_data(boss, pipeline, {"unit": people["director"].unit})
    assert sales_dept.open_count == 5  # the units below the sales department count too
    march = board_query.board_data(
        manager_east, pipeline, board_query.BoardFilters(close_month=date(2025, 3, 1))
    )
    assert (march.open_count, _titles(_column(march, "方案报价"))) == (1, {"丙"})
    assert (
        board_query.board_data(manager_east, pipeline, {"close_month": date(2025, 4, 1)}).open_count
        == 0
    )


def test_it_shows_the_first_cards_of_a_column_and_says_more_follow(
    rep_east, pipeline, east_customer, settings
):
    for number in range(5):
        records.opportunity(rep_east, east_customer, title=f"商机{number}", amount="10")
    column, has_more = board_query.cards(
        board_query.filtered(
            rep_east, board_query.board_stages(pipeline), board_query.BoardFilters()
        ),
        records.stage("初步接洽"),
        limit=3,
    )
    assert len(column) == 3 and has_more
    rest, has_more = board_query.cards(
        board_query.filtered(
            rep_east, board_query.board_stages(pipeline), board_query.BoardFilters()
        ),
        records.stage("初步接洽"),
        offset=3,
        limit=3,
    )
    assert len(rest) == 2 and not has_more
    assert {c.title for c in column} | {c.title for c in rest} == {f"商机{n}" for n in range(5)}


def test_it_reads_the_board_in_the_same_number_of_queries_however_many_deals(
    manager_east, rep_east, pipeline, east_customer, django_assert_max_num_queries
):
    for number in range(30):
        stage_name = ("初步接洽", "需求确认", "方案报价", "商务谈判")[number % 4]
        records.opportunity(
            rep_east, east_customer, title=f"商机{number}", stage_name=stage_name, amount="10"
        )
    manager_east.refresh_from_db()
    unit = manager_east.unit
    # grants, the directory's fingerprint, the scope's and the unit's owners, team shares,
    # stages, one grouped total and the cards of each of the four open stages
    with django_assert_max_num_queries(12):
        board = board_query.board_data(manager_east, pipeline, {"unit": unit})
        assert sum(len(c.cards) for c in board.columns) == 30


# --- The page -------------------------------------------------------------------------------


def test_it_sends_the_board_link_to_the_default_pipeline(login, rep_east, pipeline):
    records.pipeline("续约", is_default=False)
    response = login(rep_east).get(reverse("sales:board_default") + "?owner=1")
    assert response.status_code == 302
    assert response.url == reverse("sales:board", args=[pipeline.pk]) + "?owner=1"


def test_it_shows_the_board_with_cards_totals_and_move_menus(login, rep_east, pipeline, deals):
    response = login(rep_east).get(reverse("sales:board", args=[pipeline.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "甲" in page and "乙" in page and "丙" in page
    assert "丁" not in page and "南方商机" not in page
    assert 'data-testid="board-move-select"' in page
    assert 'id="board-total-' in page


def test_it_reports_a_bad_filter_and_still_shows_the_board(login, rep_east, pipeline, deals):
    response = login(rep_east).get(
        reverse("sales:board", args=[pipeline.pk]),
        {"owner": "999999", "close_month": "2025-13", "unit": "abc"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"owner", "unit", "close_month"}
    assert response.context["board"].open_count == 3


def test_it_offers_only_owners_and_units_in_the_users_sight(
    login, manager_east, people, pipeline, deals
):
    response = login(manager_east).get(reverse("sales:board", args=[pipeline.pk]))
    options = response.context["options"]
    assert "刘洋" in options["owner"] or "rep_east2" in options["owner"]
    assert "黄敏" not in options["owner"] and "华南销售组" not in options["unit"]


def test_it_filters_the_page_by_an_owner_out_of_sight_as_an_error(
    login, manager_east, people, pipeline, deals
):
    response = login(manager_east).get(
        reverse("sales:board", args=[pipeline.pk]), {"owner": people["rep_south1"].pk}
    )
    assert "owner" in response.context["form"].errors
    assert response.context["board"].open_count == 4  # the filter left out, not the team


def test_it_loads_more_cards_of_a_column(login, rep_east, pipeline, east_customer, settings):
    for number in range(board_query.PER_COLUMN + 2):
        records.opportunity(rep_east, east_customer, title=f"商机{number:02}")
    client = login(rep_east)
    page = client.get(reverse("sales:board", args=[pipeline.pk]))
    assert 'data-testid="board-more"' in page.content.decode()
    stage = records.stage("初步接洽")
    more = client.get(
        reverse("sales:board_more", args=[pipeline.pk]),
        {"stage": stage.pk, "offset": board_query.PER_COLUMN},
        **HTMX,
    )
    assert more.status_code == 200
    assert more.content.decode().count('data-testid="board-card"') == 2
    assert 'data-testid="board-more"' not in more.content.decode()
    won = records.stage("赢单")
    assert (
        client.get(reverse("sales:board_more", args=[pipeline.pk]), {"stage": won.pk}).status_code
        == 404
    )
    assert (
        client.get(reverse("sales:board_more", args=[pipeline.pk]), {"stage": "x"}).status_code
        == 404
    )


def test_it_answers_404_for_a_deleted_pipeline(login, rep_east, pipeline):
    from tests.sales.access_board import deleted_pipeline

    gone = deleted_pipeline(None)
    assert login(rep_east).get(reverse("sales:board", args=[gone.pk])).status_code == 404


# --- Moves ----------------------------------------------------------------------------------


def _refusal(response) -> dict:
    return json.loads(response["HX-Trigger"])["board:refused"]


def test_it_moves_a_card_and_answers_the_card_and_every_total(login, rep_east, pipeline, deals):
    opp = deals["a"]
    target = records.stage("需求确认")
    response = login(rep_east).post(
        reverse("sales:board_move", args=[opp.pk]),
        {"stage": target.pk, "version": opp.version},
        **HTMX,
    )
    assert response.status_code == 200
    opp.refresh_from_db()
    assert opp.stage == target
    assert StageVisit.objects.filter(opportunity=opp, stage=target, left_at=None).exists()
    page = response.content.decode()
    assert f'id="board-card-{opp.pk}"' in page
    assert f'data-version="{opp.version}"' in page
    assert f'id="board-total-{target.pk}"' in page and 'hx-swap-oob="true"' in page
    moved = response.context["board"]
    assert (_column(moved, "需求确认").count, _column(moved, "初步接洽").count) == (1, 1)
    assert "需求确认" in json.loads(response["HX-Trigger"])["board:done"]["message"]


def test_it_refuses_a_stage_whose_required_field_is_missing_with_the_reason(
    login, rep_east, pipeline, deals
):
    opp = deals["b"]  # no amount
    response = login(rep_east).post(
        reverse("sales:board_move", args=[opp.pk]),
        {"stage": records.stage("方案报价").pk, "version": opp.version},
        **HTMX,
    )
    assert response.status_code == 422
    refusal = _refusal(response)
    assert "方案报价" in refusal["message"] and "amount" in refusal["message"]
    assert refusal["refresh"] is False
    opp.refresh_from_db()
    assert opp.stage.name == "初步接洽"


def test_it_refuses_a_stale_card_and_asks_for_a_refresh(login, rep_east, pipeline, deals):
    opp = deals["a"]
    response = login(rep_east).post(
        reverse("sales:board_move", args=[opp.pk]),
        {"stage": records.stage("需求确认").pk, "version": opp.version - 1 or 99},
        **HTMX,
    )
    assert response.status_code == 409
    assert _refusal(response)["refresh"] is True
    opp.refresh_from_db()
    assert opp.stage.name == "初步接洽"


def test_it_moves_without_javascript_and_comes_back_with_a_message(
    login, rep_east, pipeline, deals
):
    opp = deals["a"]
    client = login(rep_east)
    response = client.post(
        reverse("sales:board_move", args=[opp.pk]) + "?close_month=2025-03",
        {"stage": records.stage("需求确认").pk, "version": opp.version},
    )
    assert response.status_code == 302
    assert response.url == reverse("sales:board", args=[pipeline.pk]) + "?close_month=2025-03"
    refused = client.post(
        reverse("sales:board_move", args=[deals["b"].pk]),
        {"stage": records.stage("方案报价").pk},
        follow=True,
    )
    assert "方案报价" in refused.content.decode()


def test_it_refuses_a_stage_of_another_pipeline(login, rep_east, pipeline, deals):
    other = records.pipeline("续约", is_default=False).stages.first()
    response = login(rep_east).post(
        reverse("sales:board_move", args=[deals["a"].pk]), {"stage": other.pk}, **HTMX
    )
    assert response.status_code == 422
    assert _refusal(response)["message"]


def test_it_answers_404_for_a_card_out_of_scope(login, rep_east, pipeline, deals):
    client = login(rep_east)
    stage = records.stage("需求确认")
    for name in ("sales:board_move", "sales:board_close"):
        response = client.post(
            reverse(name, args=[deals["d"].pk]), {"stage": stage.pk, "outcome": "won"}, **HTMX
        )
        assert response.status_code == 404
    deals["d"].refresh_from_db()
    assert deals["d"].stage.name == "初步接洽"


def test_it_lets_the_boss_read_the_board_but_not_move_cards(login, boss, pipeline, deals):
    client = login(boss)
    page = client.get(reverse("sales:board", args=[pipeline.pk]))
    assert 'data-testid="board-move-select"' not in page.content.decode()
    response = client.post(
        reverse("sales:board_move", args=[deals["a"].pk]),
        {"stage": records.stage("需求确认").pk},
        **HTMX,
    )
    assert response.status_code == 403
    assert _refusal(response)["message"]


# --- Won and lost -------------------------------------------------------------------------------


def test_it_sends_a_drop_on_the_won_stage_to_win_or_lose(login, rep_east, pipeline, deals):
    client = login(rep_east)
    won = records.stage("赢单")
    refused = client.post(
        reverse("sales:board_move", args=[deals["a"].pk]), {"stage": won.pk}, **HTMX
    )
    assert refused.status_code == 422
    page = client.post(reverse("sales:board_move", args=[deals["a"].pk]), {"stage": won.pk})
    assert page.status_code == 200
    assert 'data-testid="board-close-page"' in page.content.decode()
    deals["a"].refresh_from_db()
    assert deals["a"].status == "open"


def test_it_wins_a_card_which_leaves_the_board(login, rep_east, pipeline, deals):
    opp = deals["a"]
    response = login(rep_east).post(
        reverse("sales:board_close", args=[opp.pk]),
        {"outcome": "won", "note": "签了", "version": opp.version},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Reswap"] == "delete"
    opp.refresh_from_db()
    assert (opp.status, opp.close_note) == ("won", "签了")
    board = response.context["board"]
    assert (board.won.count, board.won.amount) == (2, Decimal("400.00"))
    assert _column(board, "初步接洽").count == 1


def test_it_loses_a_card_only_with_a_reason(login, rep_east, pipeline, deals):
    reason = LostReason.objects.create(name="价格过高")
    opp = deals["a"]
    client = login(rep_east)
    url = reverse("sales:board_close", args=[opp.pk])
    refused = client.post(url, {"outcome": "lost", "version": opp.version}, **HTMX)
    assert refused.status_code == 422
    assert _refusal(refused)["message"]
    opp.refresh_from_db()
    assert opp.status == "open"
    done = client.post(
        url, {"outcome": "lost", "reason": reason.pk, "version": opp.version}, **HTMX
    )
    assert done.status_code == 200
    opp.refresh_from_db()
    assert (opp.status, opp.lost_reason) == ("lost", reason)
    assert done.context["board"].lost.count == 1


def test_it_shows_the_lose_form_again_without_javascript_when_the_reason_is_missing(
    login, rep_east, pipeline, deals
):
    response = login(rep_east).post(
        reverse("sales:board_close", args=[deals["a"].pk]), {"outcome": "lost"}
    )
    assert response.status_code == 400
    assert 'data-testid="board-close-page"' in response.content.decode()
