"""A password reset ends every session of the account: its open sockets are disconnected too."""

from __future__ import annotations

from app.auth.password_reset import reset_token
from tests.conftest import post_form


def test_a_password_reset_disconnects_the_accounts_open_sockets(app, browsers, make):
    teacher, colleague = make.teacher(), make.teacher()
    old_tab, other_person = browsers.connect_as(teacher), browsers.connect_as(colleague)
    assert old_tab.is_connected() and other_person.is_connected()
    path = f"/password/reset/{reset_token(teacher)}"
    stranger = browsers.http()

    response = post_form(stranger, path, {"password": "sunny-harbour-31", "confirm": "sunny-harbour-31"}, page=path)

    assert response.status_code == 302
    assert not old_tab.is_connected()
    assert other_person.is_connected()
