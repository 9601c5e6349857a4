"""Expected failures become a clear answer: an HTML page for browsers, JSON for scripts."""

from tests.conftest import log_in


def test_a_missing_page_is_a_clear_html_page(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "This page does not exist." in response.get_data(as_text=True)


def test_a_missing_page_asked_for_as_json_is_json(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "This page does not exist."}}


def test_an_api_error_is_json_whatever_the_browser_accepts(client):
    response = client.get("/api/cities?country=US", headers={"Accept": "text/html"})

    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_country", "message": "Choose a country from the list."}


def test_a_forbidden_page_says_so_in_html_and_json(client, make):
    log_in(client, make.teacher())

    page = client.get("/school/teachers")
    data = client.get("/school/teachers", headers={"Accept": "application/json"})

    assert page.status_code == data.status_code == 403
    assert "This page is for school coordinators." in page.get_data(as_text=True)
    assert data.get_json()["error"] == {"code": "forbidden", "message": "This page is for school coordinators."}


def test_a_wrong_method_is_refused_clearly(client):
    response = client.get("/logout")

    assert response.status_code == 405
    assert "This action is not allowed here." in response.get_data(as_text=True)
