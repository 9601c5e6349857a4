"""Room names in one place, so emitters and joiners cannot drift apart."""


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def class_presence_room(class_id: int) -> str:
    """Teachers of a class listen here for its students coming online and going offline."""
    return f"presence:class:{class_id}"


# Rooms nothing is sent to: a socket is in them while it keeps a check that depends on the
# scope, and closing one drops those checks on every process (app/realtime/auth_cache.py).
EVERYONE_SCOPE = "auth:all"


def user_scope(user_id: int) -> str:
    return f"auth:user:{user_id}"


def project_scope(project_id: int) -> str:
    return f"auth:project:{project_id}"
