"""Feature modules. Each brings its models, and its routes and socket events where it has them."""


def register_modules(app) -> None:
    # Importing the models registers their tables (Alembic and relationships need them all).
    from app.modules.boards import models as board_models  # noqa: F401
    from app.modules.boards.blueprint import bp as boards_bp
    from app.modules.chat import models as chat_models  # noqa: F401
    from app.modules.chat import moderation_sockets  # noqa: F401  (registers the socket events)
    from app.modules.chat import sockets as chat_sockets  # noqa: F401  (registers the socket events)
    from app.modules.chat.blueprint import bp as chat_bp
    from app.modules.matching import models as matching_models  # noqa: F401
    from app.modules.matching.blueprint import bp as matching_bp
    from app.modules.notifications import models as notification_models  # noqa: F401
    from app.modules.notifications.blueprint import bp as notifications_bp
    from app.modules.projects import models as project_models  # noqa: F401
    from app.modules.projects.blueprint import bp as projects_bp
    from app.modules.uploads import models as upload_models  # noqa: F401
    from app.modules.uploads.blueprint import bp as uploads_bp

    app.register_blueprint(matching_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(uploads_bp)
    app.register_blueprint(boards_bp)
    _register_template_helpers(app)


def _register_template_helpers(app) -> None:
    """Callables for the navigation and dashboards; each runs only when a page uses it."""
    from flask_login import current_user

    from app.modules.matching.queries import invitations_waiting_for
    from app.modules.notifications.queries import unread_count
    from app.modules.projects.queries import projects_of_user

    def unread_notifications() -> int:
        return unread_count(current_user.id) if current_user.is_authenticated else 0

    def my_exchanges() -> list:
        return projects_of_user(current_user) if current_user.is_authenticated else []

    def invitations_waiting() -> list:
        return invitations_waiting_for(current_user) if current_user.is_authenticated else []

    app.jinja_env.globals.update(
        unread_notifications=unread_notifications, my_exchanges=my_exchanges, invitations_waiting=invitations_waiting
    )
