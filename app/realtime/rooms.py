"""Room names in one place, so emitters and joiners cannot drift apart."""


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def class_presence_room(class_id: int) -> str:
    """Teachers of a class listen here for its students coming online and going offline."""
    return f"presence:class:{class_id}"
