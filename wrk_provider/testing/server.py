"""The HTTP/1.1 server: keep-alive connections, one thread each, quiet."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wrk_provider.testing.api import Api
from wrk_provider.testing.dialects import Reply

MAX_BODY = 1 << 20
MAX_LINE = 65536
MAX_HEADERS = 100

_PHRASES = {status.value: status.phrase for status in HTTPStatus}


class SimulatorServer(ThreadingHTTPServer):
    """A threading server that stops at once and cuts its open keep-alive connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: Api) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.api = api
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, _Handler)  # closes the pair through server_close if bind fails

    def serve(self) -> None:
        """Accept connections until :meth:`stop` is called."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self.stopping.is_set():
                        self._accept()

    def _accept(self) -> None:
        try:
            request, client_address = self.get_request()
        except OSError:
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.shutdown_request(request)

    def stop(self) -> None:
        """Make :meth:`serve` return, wake delayed replies and shut every open connection."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        if self.stopping.is_set():
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: a client that hangs up is not the server's problem."""


class _Handler(BaseHTTPRequestHandler):
    """Reads requests with a small parser of its own: the stdlib one costs more than the API."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing per request."""

    def handle_one_request(self) -> None:
        self.close_connection = True
        self.command = ""
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return
        if line in (b"\r\n", b"\n"):
            self.close_connection = False
            return
        words = line.decode("latin-1").split()
        if len(line) > MAX_LINE or len(words) != 3 or not words[2].startswith("HTTP/1."):
            self._write(self._error(400, "Malformed request line"))
            return
        self.command, self.path, self.request_version = words

        headers = self._read_headers()
        if headers is None:
            self._write(self._error(431, "Request headers are malformed or too large"))
            return
        connection = headers.get("connection", "").lower()
        if self.request_version == "HTTP/1.0":
            self.close_connection = "keep-alive" not in connection
        else:
            self.close_connection = "close" in connection
        if headers.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

        body = self._read_body(headers)
        if body is None:
            self.close_connection = True
            self._write(self._error(400, "Bad Content-Length or chunked framing in the request"))
            return
        self._serve(headers, body)

    def _error(self, status: int, message: str) -> Reply:
        return self.server.api.dialect.error(status, message)

    def _read_headers(self) -> dict[str, str] | None:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or len(line) > MAX_LINE:
                return None
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return None

    def _serve(self, headers: dict[str, str], body: bytes) -> None:
        try:
            reply = self.server.api.handle(self.command, self.path, headers, body)
        except Exception as exc:  # the simulator must answer even when it has a bug
            message = f"Simulator error: {type(exc).__name__}: {exc}".encode()
            reply = Reply(500, message, "text/plain")

        if reply.delay > 0:
            self.server.stopping.wait(reply.delay)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(reply)

    def _read_body(self, headers: dict[str, str]) -> bytes | None:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = headers.get("content-length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            return None
        if not 0 <= size <= MAX_BODY:
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(MAX_LINE)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                return None
            total += size
            if total > MAX_BODY:
                return None
            if size == 0:
                while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(MAX_LINE)

    def _write(self, reply: Reply) -> None:
        head = f"HTTP/1.1 {reply.status} {_PHRASES.get(reply.status, 'Unknown')}\r\n"
        if reply.body:
            head += f"Content-Type: {reply.content_type}\r\n"
        head += f"Content-Length: {len(reply.body)}\r\n"
        for name, value in reply.headers:
            head += f"{name}: {value}\r\n"
        if self.close_connection:
            head += "Connection: close\r\n"
        body = b"" if self.command == "HEAD" else reply.body
        self.wfile.write((head + "\r\n").encode("latin-1") + body)
