from tests.conftest import log_in


def test_coordinator_sees_every_class_of_their_school(client, make):
    school = make.school()
    coordinator = make.coordinator(school)
    colleague = make.teacher(school, display_name="Rui Costa")
    colleague_class = make.school_class(colleague, name="Pastelaria 10C")
    make.student(colleague_class)
    other_school_class = make.school_class(make.teacher(make.school(name="Elsewhere")), name="Not ours")
    log_in(client, coordinator)

    page = client.get("/dashboard").get_data(as_text=True)

    assert "Pastelaria 10C" in page and "Rui Costa" in page
    assert "Not ours" not in page
    assert client.get(f"/classes/{colleague_class.id}").status_code == 200
    assert client.get(f"/classes/{other_school_class.id}").status_code == 403


def test_teacher_sees_own_classes_only(client, make):
    school = make.school()
    teacher = make.teacher(school)
    make.school_class(teacher, name="Cozinha 11A")
    colleague_class = make.school_class(make.teacher(school), name="Colleague's class")
    log_in(client, teacher)

    page = client.get("/dashboard").get_data(as_text=True)

    assert "Cozinha 11A" in page and "Colleague&#39;s class" not in page
    assert client.get(f"/classes/{colleague_class.id}").status_code == 403


def test_teacher_dashboard_lists_students_for_live_presence(client, make):
    teacher = make.teacher()
    school_class = make.school_class(teacher)
    student = make.student(school_class, display_name="Marta")
    log_in(client, teacher)

    page = client.get("/dashboard").get_data(as_text=True)

    assert f'data-user-id="{student.id}"' in page and "Marta" in page
    assert "static/js/presence.js" in page


def test_student_dashboard_shows_their_class_and_connects_live(client, make):
    school_class = make.school_class(name="Mecatrónica 2")
    student = make.student(school_class)
    log_in(client, student)

    page = client.get("/dashboard").get_data(as_text=True)

    assert "Mecatrónica 2" in page
    assert "static/js/live.js" in page
