"""
Which URLs a webhook may be posted to, and the HTTP session that posts to them (requests-hardened).

A webhook's URL is the integrator's, but the LMS posts to it from inside the operator's network:
a URL naming (or resolving to) a loopback, private, link-local, shared (CGNAT), multicast or
cloud-metadata address is refused when the endpoint is created, and again at each delivery, where
the session connects only to the address it checked (so a name that resolves elsewhere the second
time, DNS rebinding, gains nothing). requests-hardened does the check and the pinning; redirects
are never followed (a 3xx is a failed delivery) and the environment's proxies are not used.
``TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE`` switches the address check off (a development
LMS posting to a receiver on the same machine); ``TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP``
allows ``http`` URLs.

requests' timeouts bound each connection and each read, not a whole request: a receiver sending
its answer a byte at a time would hold the worker for as long as it likes. ``deadline`` bounds the
whole attempt: when it passes, the sockets the session opened are shut, and whatever the session
was waiting for fails at once.
"""

import re
import socket
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress, filter_host
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tahoe_registration_api.i18n import gettext_noop, message

URL_MAX = 2048
URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")  # RFC 3986's, percent-encoding included


class RefusedUrl(ValueError):
    """A URL no webhook may have; its message says why (for the caller's ``url`` field)."""


def check_url(url):
    """Return ``url`` when a webhook may be posted to it; raise ``RefusedUrl`` saying why otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise RefusedUrl(gettext_noop("Give the endpoint's URL."))
    url = url.strip()
    if len(url) > URL_MAX:
        raise RefusedUrl(message(gettext_noop("At most {max_length} characters."), max_length=URL_MAX))
    if not URL_CHARACTERS.match(url):
        raise RefusedUrl(gettext_noop("A URL holds no spaces, quotes, angle brackets, control or non-ASCII "
                                      "characters (percent-encode them)."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedUrl(gettext_noop("This is not a valid URL.")) from exc
    allowed = ("https", "http") if settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise RefusedUrl(gettext_noop("The URL must start with https://.") if len(allowed) == 1
                         else gettext_noop("The URL must start with https:// or http://."))
    if not parts.hostname:
        raise RefusedUrl(gettext_noop("The URL names no host."))
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl(gettext_noop("The URL may not hold credentials; the signature tells the receiver who posted."))
    if parts.fragment:
        raise RefusedUrl(gettext_noop("The URL may not hold a fragment (#...)."))
    if not settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE:
        _check_address(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    return url


def _check_address(host, port):
    """Refuse a host that does not resolve, or resolves to an address the LMS must not post to."""
    try:
        filter_host(host, port, allow_loopback=False)
    except InvalidIPAddress as exc:
        raise RefusedUrl(gettext_noop("The URL's host is a loopback, private, link-local or reserved address: "
                                      "webhooks are posted to public addresses only.")) from exc
    except (requests.RequestException, socket.error, UnicodeError, ValueError) as exc:
        raise RefusedUrl(gettext_noop("The URL's host does not resolve.")) from exc


def session():
    """Return the HTTP session that posts deliveries: pinned, checked addresses, no redirects, no proxies."""
    checked = not settings.TAHOE_REGISTRATION_API_WEBHOOK_ALLOW_PRIVATE
    hardened = HTTPSession(Config(ip_filter_enable=checked, ip_filter_allow_loopback_ips=False, never_redirect=True,
                                  default_timeout=None, user_agent_override="tahoe-registration-api webhooks"))
    hardened.trust_env = False  # no proxy from the environment: the socket goes where the check said
    for adapter in hardened.adapters.values():  # its connections tell ``deadline`` their sockets
        adapter.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHttpsPool}
    return hardened


_WATCH = threading.local()  # the sockets opened in this thread since ``deadline`` began


class _Watched:
    """What ``deadline`` watches: the sockets opened meanwhile; whether it passed."""

    def __init__(self):
        """Nothing opened, nothing passed."""
        self.sockets, self.passed, self.lock = [], False, threading.Lock()

    def opened(self, sock):
        """Keep a socket just connected (shut at once if the deadline passed already)."""
        with self.lock:
            self.sockets.append(sock)
            passed = self.passed
        if passed:
            _shut(sock)

    def expire(self):
        """Shut every socket opened: the deadline passed."""
        with self.lock:
            self.passed, sockets = True, list(self.sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock):
    """Shut a socket from another thread (its TCP socket beneath any TLS): its reader gets an end of file."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # closed already


class _WatchedConnection(HTTPConnection):
    """An HTTP connection that tells the deadline of its thread its socket."""

    def connect(self):
        """Connect, then tell."""
        super().connect()
        if (watched := getattr(_WATCH, "current", None)) is not None:
            watched.opened(self.sock)


class _WatchedHttpsConnection(HTTPSConnection):
    """An HTTPS connection that tells the deadline of its thread its socket."""

    def connect(self):
        """Connect, then tell."""
        super().connect()  # pylint: disable=no-member
        if (watched := getattr(_WATCH, "current", None)) is not None:
            watched.opened(self.sock)


class _WatchedPool(HTTPConnectionPool):
    """A pool of watched HTTP connections."""

    ConnectionCls = _WatchedConnection


class _WatchedHttpsPool(HTTPSConnectionPool):
    """A pool of watched HTTPS connections."""

    ConnectionCls = _WatchedHttpsConnection


@contextmanager
def deadline(seconds):
    """Shut the sockets this thread opens inside the block once ``seconds`` pass; yield whether they passed."""
    watched = _Watched()
    outer, _WATCH.current = getattr(_WATCH, "current", None), watched
    timer = threading.Timer(seconds, watched.expire)
    timer.daemon = True
    timer.start()
    try:
        yield lambda: watched.passed
    finally:
        timer.cancel()
        _WATCH.current = outer
