"""The wire between the simulated tills and the API: HTTP on loopback, with the
faults of a shop's line, and a server of our own when none is given."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import logging
import socket
import threading
import urllib.parse
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

TIMEOUT = 30.0
# Requests our own server runs at once, so at most this many database connections.
SERVER_CONCURRENCY = 16


class NotLoopback(ValueError):
    pass


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    retry_after: float = 0.0

    @property
    def data(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}

    @property
    def code(self) -> str:
        error = self.data.get("error")
        return error.get("code", "") if isinstance(error, dict) else ""

    @property
    def final(self) -> bool:
        """An answer the till acts on, as opposed to "try again"."""
        return self.status < 500 and self.status != 429 and self.code != "idempotency_in_progress"


class Client:
    """HTTP to the API, one connection per request as a till on a flaky line would open."""

    def __init__(self, base_url: str):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise NotLoopback(f"{base_url} is not an http:// address")
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise NotLoopback(f"{host} is not a loopback address; this drives only a server on this machine")
        self.host = host
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/") or "/api/v1"
        self.base = f"{parts.scheme}://{parts.netloc}{self.prefix}"

    def _headers(self, secret: str, body: bytes | None, key: str | None) -> dict:
        headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en", "Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def send(self, method, path, *, secret, body=None, key=None, timeout=TIMEOUT) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, self.prefix + path, body=body, headers=self._headers(secret, body, key))
            response = conn.getresponse()
            payload = response.read()
            try:
                retry_after = float(response.getheader("Retry-After") or 0)
            except ValueError:
                retry_after = 1.0
            return Answer(response.status, payload, retry_after)
        finally:
            conn.close()

    def _raw(self, method, path, *, secret, body, key) -> bytes:
        head = [f"{method} {self.prefix}{path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in self._headers(secret, body, key).items()]
        head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def cut_while_sending(self, method, path, *, secret, body, key, in_body=False) -> None:
        """The line drops while the request goes out: in the bearer secret, so that no
        server can act on what it got, or (in_body) halfway through the body."""
        request = self._raw(method, path, secret=secret, body=body, key=key)
        if in_body:
            cut = len(request) - len(body) // 2
        else:
            cut = request.index(b"Bearer ") + len(b"Bearer ") + len(secret) // 2
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT) as sock:
            sock.sendall(request[:cut])

    def drop_before_answer(self, method, path, *, secret, body, key) -> None:
        """The whole request leaves, then the line drops: the server may or may not have done it."""
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT) as sock:
            sock.sendall(self._raw(method, path, secret=secret, body=body, key=key))


@contextlib.contextmanager
def local_server(*, concurrency: int = SERVER_CONCURRENCY):
    """Serve this process's Django on 127.0.0.1 at a free port, in threads; yields its base URL.

    At most `concurrency` requests run at once, each with its own database
    connection; the rest wait their turn, as they would for a fixed number of
    gunicorn threads. An in-memory SQLite database (a test's) exists only in
    this process's connection: the server then shares that connection and
    runs one request at a time, as SQLite writes one at a time anyway.
    """
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    database = connections[DEFAULT_DB_ALIAS]
    shared = database.vendor == "sqlite" and database.is_in_memory_db()
    if shared:
        database.inc_thread_sharing()
    server = ThreadedWSGIServer(
        ("127.0.0.1", 0),
        QuietHandler,
        allow_reuse_address=False,
        connections_override={DEFAULT_DB_ALIAS: database} if shared else None,
    )
    server.set_app(at_most(1 if shared else concurrency, get_wsgi_application()))
    thread = threading.Thread(target=server.serve_forever, name="simulate-terminals-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        if shared:
            database.dec_thread_sharing()


def at_most(concurrency: int, app):
    """The WSGI app, running at most `concurrency` requests at once."""
    slots = threading.BoundedSemaphore(concurrency)

    def bounded(environ, start_response):
        with slots:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                # Django's request_finished (which gives back the connection) runs on close.
                if hasattr(result, "close"):
                    result.close()

    return bounded


@contextlib.contextmanager
def quiet_request_log():
    """A refused request is an outcome here, counted in the summary, not a warning to print."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
