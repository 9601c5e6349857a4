"""Reports, the teachers' queue, teacher deletes, and the moderation log."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.modules.chat import moderation
from app.modules.chat.models import Message, MessageReport, ModerationAction, Mute, ReportStatus
from app.modules.chat.moderation import REPORT_DETAILS_LIMIT
from app.modules.notifications.models import Notification
from app.modules.projects.models import ProjectMember, ProjectRole
from tests.chat.conftest import join, send
from tests.conftest import post_form


def report(sock, channel_id, message_id, reason="bullying", details=""):
    payload = {"channel_id": channel_id, "message_id": message_id, "reason": reason, "details": details}
    return sock.emit("chat_report", payload, callback=True)


def queue_url(exchange) -> str:
    return f"/exchanges/{exchange.project.id}/moderation"


def test_a_reader_reports_once_and_the_teachers_are_nudged(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    teachers = [browsers.connect_as(exchange.teacher), browsers.connect_as(exchange.partner_teacher)]
    unkind = send(ben, exchange.channel.id, "you cook badly")
    first = report(ana, exchange.channel.id, unkind["id"], "bullying", "He keeps saying this.")
    assert first["ok"] and first["already_reported"] is False and "teachers" in first["notice"]
    again = report(ana, exchange.channel.id, unkind["id"], "spam")
    assert again["ok"] and again["already_reported"] is True and again["report_id"] == first["report_id"]
    assert "already reported" in again["notice"]
    for sock in teachers:
        assert [e["open_reports"] for e in sock.events("chat_report_count")] == [1]
    assert ana.events("chat_report_count") == [] and ben.events("chat_report_count") == []
    notified = db.session.scalars(select(Notification.user_id).where(Notification.kind == "chat_report"))
    assert sorted(notified) == sorted([exchange.teacher.id, exchange.partner_teacher.id])
    stored = db.session.get(MessageReport, first["report_id"])
    assert stored.reason.value == "bullying" and stored.details == "He keeps saying this."
    assert stored.status == ReportStatus.OPEN and stored.reporter_id == exchange.ana.id


def test_a_second_reader_adds_a_report_without_a_second_nudge(exchange, browsers, make):
    ben = browsers.connect_as(exchange.ben)
    unkind = send(ben, exchange.channel.id, "hmm")
    carla = make.student(exchange.class_pt, display_name="Carla")
    assert report(browsers.connect_as(exchange.ana), exchange.channel.id, unkind["id"])["ok"]
    assert report(browsers.connect_as(carla), exchange.channel.id, unkind["id"], "inappropriate")["ok"]
    assert db.session.scalar(select(db.func.count()).select_from(Notification)) == 2  # one per teacher


def test_report_rules_and_limits(exchange, browsers, make, monkeypatch):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    own = send(ana, exchange.channel.id, "mine")
    assert report(ana, exchange.channel.id, own["id"])["error"]["code"] == "own_message"
    his = send(ben, exchange.channel.id, "his")
    assert report(ana, exchange.channel.id, his["id"], "nonsense")["error"]["code"] == "invalid_input"
    too_long = report(ana, exchange.channel.id, his["id"], "other", "x" * (REPORT_DETAILS_LIMIT + 1))
    assert too_long["error"]["code"] == "text_too_long"
    assert report(ana, exchange.channel.id, his["id"], "other", "x" * REPORT_DETAILS_LIMIT)["ok"]
    outsider = browsers.connect_as(make.student(make.school_class()))
    assert report(outsider, exchange.channel.id, his["id"])["error"]["code"] == "forbidden"
    assert report(ana, exchange.channel.id, 999_999)["error"]["code"] == "not_found"
    removed = send(ben, exchange.channel.id, "gone soon")
    ben.emit("chat_delete", {"channel_id": exchange.channel.id, "message_id": removed["id"]}, callback=True)
    assert report(ana, exchange.channel.id, removed["id"])["error"]["code"] == "message_removed"

    monkeypatch.setattr(moderation, "REPORTS_PER_HOUR", 3)
    others = [send(ben, exchange.channel.id, f"m{n}") for n in range(3)]
    assert report(ana, exchange.channel.id, others[0]["id"])["ok"]
    assert report(ana, exchange.channel.id, others[1]["id"])["ok"]  # the third in the hour
    limited = report(ana, exchange.channel.id, others[2]["id"])
    assert limited["ok"] is False and limited["error"]["code"] == "too_many_reports"


def test_teacher_queue_shows_reports_and_hiding_closes_all_of_them(exchange, browsers, make):
    ben = browsers.connect_as(exchange.ben)
    unkind = send(ben, exchange.channel.id, "a really unkind line")
    carla = make.student(exchange.class_pt, display_name="Carla")
    report(browsers.connect_as(exchange.ana), exchange.channel.id, unkind["id"], "bullying", "not ok")
    report(browsers.connect_as(carla), exchange.channel.id, unkind["id"], "inappropriate")
    watcher = browsers.connect_as(exchange.ana)
    join(watcher, exchange.channel.id)

    http = browsers.http(exchange.partner_teacher)
    html = http.get(queue_url(exchange)).get_data(as_text=True)
    assert "a really unkind line" in html and "Bullying or hurtful" in html and "Inappropriate content" in html
    # (A partner teacher's page: the Portuguese reporters by username.)
    assert exchange.ana.username in html and carla.username in html and "Carla" not in html
    assert "not ok" in html and "Whole exchange" in html
    overview = http.get(f"/exchanges/{exchange.project.id}").get_data(as_text=True)
    assert "data-open-reports>2<" in overview  # the badge on the project home

    hidden = post_form(http, f"{queue_url(exchange)}/messages/{unkind['id']}/hide", {}, page=queue_url(exchange))
    assert hidden.status_code == 302
    (event,) = watcher.events("chat_event")
    assert event["kind"] == "hide" and event["message"]["body_source"] is None
    reports = list(db.session.scalars(select(MessageReport).where(MessageReport.message_id == unkind["id"])))
    assert {r.status for r in reports} == {ReportStatus.ACTED}
    assert {r.handled_by_id for r in reports} == {exchange.partner_teacher.id}
    assert all(r.handled_at is not None for r in reports)
    html = http.get(queue_url(exchange)).get_data(as_text=True)
    assert "No open reports" in html
    # Twice (another teacher in another tab): a clear answer, not a crash.
    again = post_form(http, f"{queue_url(exchange)}/messages/{unkind['id']}/dismiss", {}, page=queue_url(exchange))
    assert again.status_code == 302
    assert "already been handled" in http.get(queue_url(exchange)).get_data(as_text=True)


def test_dismiss_and_mute_the_author_from_the_queue(exchange, browsers):
    ben = browsers.connect_as(exchange.ben)
    first, second = send(ben, exchange.channel.id, "one"), send(ben, exchange.channel.id, "two")
    ana = browsers.connect_as(exchange.ana)
    report(ana, exchange.channel.id, first["id"], "spam")
    report(ana, exchange.channel.id, second["id"], "bullying")
    http = browsers.http(exchange.teacher)
    url = queue_url(exchange)
    assert post_form(http, f"{url}/messages/{first['id']}/dismiss", {}, page=url).status_code == 302
    assert db.session.scalar(select(MessageReport.status).where(MessageReport.message_id == first["id"])) == (
        ReportStatus.DISMISSED
    )
    bad = post_form(http, f"{url}/messages/{second['id']}/mute-author", {"minutes": 7}, page=url)
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)
    muted = post_form(http, f"{url}/messages/{second['id']}/mute-author", {"minutes": 60, "reason": "r"}, page=url)
    assert muted.status_code == 302
    assert db.session.scalar(select(Mute.user_id)) == exchange.ben.id
    assert db.session.scalar(select(MessageReport.status).where(MessageReport.message_id == second["id"])) == (
        ReportStatus.ACTED
    )
    assert ben.events("chat_muted")
    assert db.session.get(Message, second["id"]).hidden_at is None  # muting leaves the message as it is


def test_the_queue_comes_in_pages_longest_waiting_first(exchange, browsers, monkeypatch):
    from app.modules.chat import moderation_queries

    monkeypatch.setattr(moderation_queries, "QUEUE_PAGE", 2)
    ben, ana = browsers.connect_as(exchange.ben), browsers.connect_as(exchange.ana)
    sent = [send(ben, exchange.channel.id, f"line number {n}") for n in range(3)]
    for message in reversed(sent):  # the last one sent is the one reported first
        assert report(ana, exchange.channel.id, message["id"])["ok"]
    http, url = browsers.http(exchange.teacher), queue_url(exchange)

    first = http.get(url).get_data(as_text=True)
    assert "line number 2" in first and "line number 1" in first and "line number 0" not in first
    assert first.index("line number 2") < first.index("line number 1")
    assert "data-open-reports>3<" in first  # every open report, not only this page's
    assert "Reported later" in first and "Reported earlier" not in first
    second = http.get(f"{url}?page=2").get_data(as_text=True)
    assert "line number 0" in second and "line number 1" not in second
    assert "Reported earlier" in second and "Reported later" not in second

    # Acting on page 2 comes back to page 2; once it is empty, to the first page.
    dismissed = post_form(http, f"{url}/messages/{sent[0]['id']}/dismiss?page=2", {}, page=f"{url}?page=2")
    assert dismissed.status_code == 302 and dismissed.headers["Location"].endswith("/moderation?page=2")
    emptied = http.get(f"{url}?page=2")
    assert emptied.status_code == 302 and emptied.headers["Location"].endswith("/moderation")
    assert http.get(f"{url}?page=0").status_code == 404
    assert http.get(f"{url}?page={10**20}").status_code == 404


def test_queue_is_for_the_exchanges_teachers_only(exchange, browsers, make):
    url = queue_url(exchange)
    assert browsers.http(exchange.ana).get(url).status_code == 403
    assert browsers.http(make.teacher()).get(url).status_code == 403
    assert browsers.http(make.coordinator(school=exchange.teacher.school)).get(url).status_code == 403
    pupil = browsers.http(exchange.ana)
    sent = send(browsers.connect_as(exchange.ben), exchange.channel.id, "x")
    overview = f"/exchanges/{exchange.project.id}"
    assert post_form(pupil, f"{url}/messages/{sent['id']}/hide", {}, page=overview).status_code == 403
    assert db.session.get(Message, sent["id"]).hidden_at is None


def test_teacher_deletes_a_pupils_message_and_it_is_logged(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    teacher = browsers.connect_as(exchange.teacher)
    join(ana, exchange.channel.id)
    sent = send(ben, exchange.channel.id, "my address is …")
    target = {"channel_id": exchange.channel.id, "message_id": sent["id"]}
    assert ana.emit("chat_delete", target, callback=True)["error"]["code"] == "forbidden"
    ana.get_received()
    assert teacher.emit("chat_delete", target, callback=True)["ok"]
    (event,) = ana.events("chat_event")
    assert event["kind"] == "delete" and event["message"]["state"] == "deleted"
    assert event["message"]["body_source"] is None
    entry = db.session.scalar(select(ModerationAction).where(ModerationAction.action == "delete"))
    assert entry.actor_id == exchange.teacher.id and entry.target_user_id == exchange.ben.id
    # A pupil deleting their own message is no moderation step.
    own = send(ben, exchange.channel.id, "oops")
    ben.emit("chat_delete", {"channel_id": exchange.channel.id, "message_id": own["id"]}, callback=True)
    assert db.session.scalar(select(db.func.count()).select_from(ModerationAction)) == 1


def test_the_log_lists_every_step_newest_first_for_teachers_and_coordinators(exchange, browsers, make):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    teacher = browsers.connect_as(exchange.teacher)
    sent = send(ben, exchange.channel.id, "x")
    report(ana, exchange.channel.id, sent["id"], "spam")
    teacher.emit("chat_hide", {"channel_id": exchange.channel.id, "message_id": sent["id"]}, callback=True)
    teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": True}, callback=True)
    teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": False}, callback=True)
    teacher.emit(
        "chat_mute",
        {"channel_id": exchange.channel.id, "user_id": exchange.ben.id, "minutes": 15, "reason": "cool off"},
        callback=True,
    )
    url = f"/exchanges/{exchange.project.id}/moderation/log"
    html = browsers.http(exchange.partner_teacher).get(url).get_data(as_text=True)
    order = [
        html.index(s)
        for s in ("muted Ben", "unlocked", "locked the channel", "hid a message", f"{exchange.ana.username} reported")
    ]
    assert order == sorted(order)
    assert "cool off" in html and "15 minutes" in html

    coordinator = browsers.http(make.coordinator(school=exchange.teacher.school))
    seen = coordinator.get(url)
    assert seen.status_code == 200
    text = seen.get_data(as_text=True)
    assert "A reader reported" in text and "Ana reported" not in text  # reporters stay with the teachers

    parent = make.user(role=make_guest_role())
    db.session.add(ProjectMember(project_id=exchange.project.id, user_id=parent.id, role=ProjectRole.VISITOR))
    db.session.flush()
    assert browsers.http(parent).get(url).status_code == 403
    assert browsers.http(exchange.ana).get(url).status_code == 403


def make_guest_role():
    from app.auth.models import Role

    return Role.GUEST


def test_the_log_comes_in_pages(exchange, browsers):
    from app.modules.chat.moderation import log_action
    from app.modules.chat.moderation_queries import LOG_PAGE

    for n in range(LOG_PAGE + 1):
        log_action(exchange.project.id, exchange.teacher.id, "lock", channel_id=exchange.channel.id, n=n)
    db.session.flush()
    http = browsers.http(exchange.teacher)
    url = f"/exchanges/{exchange.project.id}/moderation/log"
    first = http.get(url).get_data(as_text=True)
    assert first.count('data-log-action="lock"') == LOG_PAGE and "Older entries" in first
    second = http.get(f"{url}?page=2").get_data(as_text=True)
    assert second.count('data-log-action="lock"') == 1 and "Newer entries" in second
    assert http.get(f"{url}?page=0").status_code == 404


def test_a_coordinator_of_another_school_let_in_as_a_visitor_does_not_read_the_log(exchange, browsers, make):
    # A visitor link (one for the parents, say) that reaches a coordinator of an unrelated
    # school makes them a reader of the chat, not of the log that names pupils and reasons.
    outsider = make.coordinator(school=make.school(country="IT", city="Bologna"))
    db.session.add(ProjectMember(project_id=exchange.project.id, user_id=outsider.id, role=ProjectRole.VISITOR))
    db.session.flush()
    http = browsers.http(outsider)
    assert http.get(f"/exchanges/{exchange.project.id}/moderation/log").status_code == 403
    overview = http.get(f"/exchanges/{exchange.project.id}").get_data(as_text=True)
    assert "/moderation/log" not in overview


def test_a_log_page_past_any_number_is_not_found(exchange, browsers):
    http = browsers.http(exchange.teacher)
    assert http.get(f"/exchanges/{exchange.project.id}/moderation/log?page={10**20}").status_code == 404


def test_hiding_from_the_chat_page_closes_the_open_reports(exchange, browsers, make):
    ben = browsers.connect_as(exchange.ben)
    unkind = send(ben, exchange.channel.id, "a really unkind line")
    carla = make.student(exchange.class_pt, display_name="Carla")
    report(browsers.connect_as(exchange.ana), exchange.channel.id, unkind["id"], "bullying")
    report(browsers.connect_as(carla), exchange.channel.id, unkind["id"], "inappropriate")
    colleague = browsers.connect_as(exchange.partner_teacher)
    colleague.events("chat_report_count")

    teacher = browsers.connect_as(exchange.teacher)
    hidden = teacher.emit("chat_hide", {"channel_id": exchange.channel.id, "message_id": unkind["id"]}, callback=True)
    assert hidden["ok"]

    reports = list(db.session.scalars(select(MessageReport).where(MessageReport.message_id == unkind["id"])))
    assert {r.status for r in reports} == {ReportStatus.ACTED}
    assert {r.handled_by_id for r in reports} == {exchange.teacher.id}
    assert all(r.handled_at is not None for r in reports)
    acted = db.session.scalar(select(ModerationAction).where(ModerationAction.action == "report_acted"))
    assert acted.actor_id == exchange.teacher.id and acted.message_id == unkind["id"]
    assert acted.details == {"reports": 2, "outcome": "hide"}
    assert colleague.events("chat_report_count")[-1]["open_reports"] == 0  # the badges go down, live
    assert "No open reports" in browsers.http(exchange.partner_teacher).get(queue_url(exchange)).get_data(as_text=True)

    # Hiding a message nobody reported closes nothing and logs no report step.
    quiet = send(ben, exchange.channel.id, "an unreported line")
    teacher.emit("chat_hide", {"channel_id": exchange.channel.id, "message_id": quiet["id"]}, callback=True)
    assert (
        db.session.scalar(
            select(db.func.count()).select_from(ModerationAction).where(ModerationAction.action == "report_acted")
        )
        == 1
    )


def test_the_log_quotes_the_message_acted_on_as_plain_text(exchange, browsers):
    ana, ben = browsers.connect_as(exchange.ana), browsers.connect_as(exchange.ben)
    teacher = browsers.connect_as(exchange.teacher)
    long_text = "**You** cook <b>badly</b> and everyone knows it, " + "really " * 20
    sent = send(ben, exchange.channel.id, long_text)
    report(ana, exchange.channel.id, sent["id"], "bullying")
    teacher.emit("chat_hide", {"channel_id": exchange.channel.id, "message_id": sent["id"]}, callback=True)
    teacher.emit("chat_lock", {"channel_id": exchange.channel.id, "locked": True}, callback=True)

    html = (
        browsers.http(exchange.teacher).get(f"/exchanges/{exchange.project.id}/moderation/log").get_data(as_text=True)
    )

    excerpt = "You cook &lt;b&gt;badly&lt;/b&gt; and everyone knows it, really really really"
    # The report, the hide and the report it closed each quote it; the lock is about no message.
    assert html.count(f"<q>{excerpt}") == 3
    quoted = html[html.index("<q>") + 3 : html.index("</q>")]
    assert quoted.endswith("…") and len(quoted.replace("&lt;", "<").replace("&gt;", ">")) <= 80
    assert "<strong>You</strong>" not in html  # plain text: no markup of the message comes through
    lock_line = html[html.index('data-log-action="lock"') :]
    assert "<q>" not in lock_line[: lock_line.index("</li>")]
