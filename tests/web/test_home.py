def test_it_builds_the_demo_org(people):
    assert people["rep_east1"].unit.name == "华东销售组"
    assert people["rep_east1"].unit.parent.name == "销售部"


def test_it_shows_home(people, login):
    response = login(people["rep_east1"]).get("/")
    assert response.status_code == 200
    assert "张伟" in response.content.decode()
