"""A real SMTP server for the mail layer's tests (tests/mail_support.py)."""

from tests.mail_support import mail_via_smtp, smtp_server  # noqa: F401
