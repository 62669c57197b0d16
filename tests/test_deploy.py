"""nginx in front of the replicas, as `guide serve` runs it: per-address limits, headers, the cookie, no secret shown."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from guide.serve.cluster import free_port
from tests.helpers import write_small_corpus

pytestmark = pytest.mark.cluster

LIMIT = 4


def _websocket(port: int, source: str = "127.0.0.1") -> tuple[socket.socket, str]:
    """An idle websocket to the app through nginx, as a browser tab holds one; and the status line."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n"
        ).encode()
    )
    return sock, sock.recv(4096).decode(errors="replace").split("\r\n")[0]


def _get(port: int, path: str, source: str = "127.0.0.1") -> tuple[str, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.decode(errors="replace").split("\r\n\r\n")[0]
    return head.split("\r\n")[0], head


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    corpus = write_small_corpus(folder / "corpus")
    env = {**os.environ, "GUIDE_MODEL": "fake", "GUIDE_CORPUS_DIR": str(corpus), "GUIDE_INDEX_DIR": str(folder / "index")}
    guide = [sys.executable, "-m", "guide.cli"]
    subprocess.run([*guide, "build"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    dead = f"postgresql://guide:sekrit-pw@127.0.0.1:{free_port()}/guide"  # nothing listens there
    command = [*guide, "serve", "--replicas", "1", "--port", str(port), "--feedback-url", dead]
    command += ["--connections-per-address", str(LIMIT), "--secure-cookie"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        while not any(line.startswith("Feedback:") for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        yield port, "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_one_address_cannot_hold_every_connection_and_others_are_still_served(served):
    port, _ = served
    held = []
    try:
        for _ in range(LIMIT):
            sock, status = _websocket(port)
            held.append(sock)
            assert " 101 " in status, status
        extra, status = _websocket(port)
        held.append(extra)
        assert " 429 " in status, status
        # Another address is served as usual, while the first holds all it may.
        status, _ = _get(port, "/_stcore/health", source="127.0.0.2")
        assert " 200 " in status, status
        sock, status = _websocket(port, source="127.0.0.2")
        held.append(sock)
        assert " 101 " in status, status
    finally:
        for sock in held:
            sock.close()


def test_pages_carry_security_headers_and_a_secure_http_only_cookie(served):
    port, _ = served
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    cookie = headers["Set-Cookie"]
    assert re.match(r"guide_session=[0-9a-f]{32};", cookie) and "HttpOnly" in cookie and "Secure" in cookie
    assert "nginx/" not in (headers["Server"] or "")


def test_the_feedback_password_is_not_printed(served):
    _, output = served
    assert "sekrit-pw" not in output and "guide:***@" in output
