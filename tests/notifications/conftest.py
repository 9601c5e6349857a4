"""A real SMTP server for the notification e-mails (tests/mail_support.py)."""

from tests.mail_support import mail_via_smtp, smtp_server  # noqa: F401
