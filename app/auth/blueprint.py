"""Routes of accounts, schools and classes, as one flat list."""

from flask import Blueprint

from app.auth import controllers as c
from app.auth import join_controllers as join
from app.auth import reset_controllers as reset
from app.auth.names import shown_name

bp = Blueprint("auth", __name__)
# Every page names people through this filter: {{ person|shown_name }} (app/auth/names.py).
bp.add_app_template_filter(shown_name, "shown_name")

bp.add_url_rule("/login", "login", c.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", "logout", c.logout, methods=["POST"])
bp.add_url_rule("/password/forgot", "forgot_password", reset.forgot_password, methods=["GET", "POST"])
bp.add_url_rule("/password/forgot/sent", "reset_requested", reset.reset_requested)
bp.add_url_rule("/password/reset/<token>", "reset_password", reset.reset_password, methods=["GET", "POST"])
bp.add_url_rule("/register", "register", c.register, methods=["GET", "POST"])
bp.add_url_rule("/register/sent", "registered", c.registered)
bp.add_url_rule("/join", "join_class", join.join_class, methods=["GET", "POST"])
bp.add_url_rule("/language", "set_language", c.set_language, methods=["POST"])
bp.add_url_rule("/api/cities", "city_search", c.city_search)
bp.add_url_rule("/account/password", "change_password", c.change_password, methods=["GET", "POST"])
bp.add_url_rule("/account/profile", "profile", c.profile, methods=["GET", "POST"])
bp.add_url_rule("/school/teachers", "teachers", c.teachers)
bp.add_url_rule("/school/teachers/<int:user_id>/<action>", "review_teacher", c.review_teacher, methods=["POST"])
bp.add_url_rule("/classes", "classes", c.classes)
bp.add_url_rule("/classes/new", "new_class", c.new_class, methods=["GET", "POST"])
bp.add_url_rule("/classes/<int:class_id>", "class_detail", c.class_detail)
bp.add_url_rule("/classes/<int:class_id>/edit", "edit_class", c.edit_class, methods=["GET", "POST"])
bp.add_url_rule("/classes/<int:class_id>/students", "create_students", c.create_students, methods=["POST"])
bp.add_url_rule(
    "/classes/<int:class_id>/students/<int:student_id>/<action>", "student_action", c.student_action, methods=["POST"]
)
bp.add_url_rule("/classes/<int:class_id>/join-code", "join_code", join.join_code, methods=["POST"])
bp.add_url_rule(
    "/classes/<int:class_id>/waiting/<int:student_id>/<action>", "join_request", join.join_request, methods=["POST"]
)
