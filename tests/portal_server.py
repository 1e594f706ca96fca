"""A real HTTP server on 127.0.0.1 that serves portal-like sites the tests build: pages with
ETag/Last-Modified (answering conditional GETs with 304), redirects, errors, slow answers and
endless bodies. Every request is logged so a test can see what the sync asked for."""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str = ""  # for redirects
    delay: float = 0.0  # seconds before answering
    endless_mb: int = 0  # stream this many MB of filler (no Content-Length)
    validators: bool = True  # send ETag and Last-Modified, answer 304 when they match
    modified: float = field(default_factory=lambda: time.time() - 86400)


@dataclass(frozen=True)
class Hit:
    path: str
    status: int
    headers: dict[str, str]
    at: float


class PortalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._serve(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hangs up early (size limit, timeout) is expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> PortalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- building the site ----------------------------------------------------------------------
    def page(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
             **options: object) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, content_type=content_type, **options)  # type: ignore[arg-type]

    def remove(self, path: str) -> None:
        self.routes.pop(path, None)

    def requests(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if path is None or h.path == path]

    def clear_log(self) -> None:
        with self._lock:
            self.hits.clear()

    # -- answering ------------------------------------------------------------------------------
    def _log(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.hits.append(Hit(handler.path, status, {k.lower(): v for k, v in handler.headers.items()},
                                 time.monotonic()))

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(h.path)
        if route is None:
            self._log(h, 404)
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            h.send_response(404)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if route.delay:
            time.sleep(route.delay)
        if route.location:
            self._log(h, route.status)
            h.send_response(route.status)
            h.send_header("Location", route.location)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if route.endless_mb:
            self._log(h, 200)
            h.send_response(200)
            h.send_header("Content-Type", route.content_type)
            h.send_header("Connection", "close")
            h.end_headers()
            filler = b"<p>" + b"Hai Phong " * 100 + b"</p>\n"
            try:
                h.wfile.write(b"<html><body>")
                sent = 0
                while sent < route.endless_mb * 1024 * 1024:
                    h.wfile.write(filler)
                    sent += len(filler)
            except (BrokenPipeError, ConnectionResetError):
                pass
            h.close_connection = True
            return
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(route.modified, usegmt=True)
        if route.validators and route.status == 200 and (
                h.headers.get("If-None-Match") == etag or
                (h.headers.get("If-Modified-Since") == modified and not h.headers.get("If-None-Match"))):
            self._log(h, 304)
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return
        self._log(h, route.status)
        h.send_response(route.status)
        h.send_header("Content-Type", route.content_type)
        h.send_header("Content-Length", str(len(route.body)))
        if route.validators and route.status == 200:
            h.send_header("ETag", etag)
            h.send_header("Last-Modified", modified)
        h.end_headers()
        h.wfile.write(route.body)
