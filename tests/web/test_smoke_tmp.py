from datetime import date
from tests.conftest import login


def test_flow(app, client, make_municipality, make_user, login_as):
    a = make_municipality("Merchweiler", ags="10043113")
    b = make_municipality("Illingen", ags="10043112")
    u = make_user(a)
    login_as(u)
    r = client.get("/kooperationen/")
    assert r.status_code == 200, r.data
    r = client.post("/kooperationen/neu", data={"title": "Standesamt", "goals": "x", "handlungsfeld": "verwaltung",
        "rechtsform": "zweckvereinbarung", "status": "aktiv", "start_date": "2025-01-01"})
    assert r.status_code == 302, r.get_data(as_text=True)
    loc = r.headers["Location"]
    r = client.get(loc)
    assert r.status_code == 200
    cid = int(loc.rsplit("/", 1)[1])
    r = client.get(f"/kommunen/suche?query=Illi&for_partner=1", headers={"HX-Request": "true"})
    assert "Illingen" in r.get_data(as_text=True), r.get_data(as_text=True)
    r = client.post(f"/kooperationen/{cid}/partner/neu", data={"pick": "10043112", "joined_on": "2025-01-01"})
    assert r.status_code == 302, r.get_data(as_text=True)
    r = client.get(loc)
    body = r.get_data(as_text=True)
    assert "Illingen" in body
    print(body[-3000:])
