"""HTTP response headers that every page gets: CSP without inline scripts, no framing."""

from __future__ import annotations

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if response.mimetype == "text/html":
        # Pages hold pupils' data: never keep them in a shared school PC's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class TrustedProxies:
    """Behind TRUSTED_PROXIES reverse proxies (nginx: 1), the client's address, scheme and
    host come from their X-Forwarded-* headers, so login throttling counts each pupil's
    address and links on login cards are https. Read per request, so the setting is live."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        hops = self.app.config["TRUSTED_PROXIES"]
        if hops:
            return ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)(environ, start_response)
        return self.wsgi_app(environ, start_response)


def client_address() -> str:
    """The client's address; behind TRUSTED_PROXIES, ProxyFix (create_app) has already
    taken it from X-Forwarded-For. Without a trusted proxy that header is ignored, since
    any client can send it."""
    return request.remote_addr or ""


def is_local_path(target: str) -> bool:
    """A path on this site, safe to redirect to (browsers read a backslash as a slash)."""
    target = target.replace("\\", "/")
    return target.startswith("/") and not target.startswith("//") and not any(c < " " for c in target)
