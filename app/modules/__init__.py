"""Feature modules. Each brings its models, and its routes and socket events where it has them."""


def register_modules(app) -> None:
    # Importing the models registers their tables (Alembic and relationships need them all).
    from app.modules.matching import models as matching_models  # noqa: F401
    from app.modules.notifications import models as notification_models  # noqa: F401
    from app.modules.projects import models as project_models  # noqa: F401
