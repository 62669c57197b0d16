"""Several app replicas behind nginx, with feedback in PostgreSQL, on this machine's loopback.

`guide serve --replicas N` starts, under one temporary folder:

- a private PostgreSQL cluster (Debian's `postgresql` programs) on a loopback port, unless a
  feedback URL is given or `--no-postgres`;
- N replicas (`python -m guide.serve.replica`) on consecutive ports, each with its own health port
  and feedback spool, all reading the one index folder (`guide build` publishes to it; each
  replica switches between questions) with rebuilding from the app turned off;
- nginx (`deploy/nginx.conf.template`) on the front port, sticky per browser.

It restarts a replica that dies (its spool is stored when it is back) and stops everything
cleanly: replicas drain their answers, nginx finishes its requests, PostgreSQL shuts down.
This is the single-machine form of the deployment the README describes for a real site.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from guide.errors import GuideError

logger = logging.getLogger(__name__)
TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf.template"


class ClusterError(GuideError):
    """A part of the cluster cannot be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float, process: subprocess.Popen | None = None) -> bool:
    """Whether `url` answers 200 within `seconds` (False at once if `process` exits)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        time.sleep(0.25)
    return False


class PostgresServer:
    """A private PostgreSQL cluster in `folder`, listening on 127.0.0.1:`port` only.

    Run as the `postgres` user when this process is root (PostgreSQL refuses root).
    """

    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise ClusterError("PostgreSQL is not installed: apt-get install postgresql (make cluster does).")
        self.bin = Path(found[-1]).parent
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="guide-pg-"))
            os.chmod(folder, 0o755)
        self.folder = folder
        self.data = folder / "data"
        self.port = port or free_port()
        self.url = f"postgresql://guide@127.0.0.1:{self.port}/guide"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        folder.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "guide", "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "guide", "guide")

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self.bin / program), *args], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise ClusterError(f"PostgreSQL's {program} failed: {(result.stderr or result.stdout).strip()[-500:]}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """A fast shutdown by PID (SIGINT), waiting for the server to exit."""
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop the server and remove its folder."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Replica:
    number: int
    port: int
    health_port: int
    spool: Path
    log: Path
    process: subprocess.Popen | None = None
    restarts: int = 0

    @property
    def name(self) -> str:
        return f"replica-{self.number}"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.health_port}/ready"


@dataclass
class Cluster:
    """Start with `start()`, stop with `stop()`; or use it as a context manager."""

    replicas: int = 2
    port: int = 8600
    feedback_url: str | None = None  # None: a private PostgreSQL
    env: dict[str, str] = field(default_factory=dict)
    # Seconds between a replica's death and its restart (a supervisor's restart delay).
    restart_delay: float = 1.0
    # What one client address may use of nginx: connections at once, requests a second and their
    # burst (a Streamlit page load fetches a few dozen files at once).
    connections_per_address: int = 50
    requests_per_second: int = 30
    request_burst: int = 200
    # Mark the session cookie Secure (for a site behind TLS).
    secure_cookie: bool = False
    folder: Path | None = None
    members: list[Replica] = field(default_factory=list)
    postgres: PostgresServer | None = None
    nginx: subprocess.Popen | None = None
    _stopping: bool = False
    _keeper: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, ready_seconds: float = 240) -> None:
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            raise ClusterError("nginx is not installed: apt-get install nginx (make cluster does).")
        self.folder = Path(tempfile.mkdtemp(prefix="guide-cluster-"))
        os.chmod(self.folder, 0o755)
        try:
            if self.feedback_url is None:
                self.postgres = PostgresServer(self.folder / "postgres")
                self.feedback_url = self.postgres.url
            for number in range(1, self.replicas + 1):
                replica = Replica(
                    number,
                    free_port(),
                    free_port(),
                    self.folder / f"spool-{number}.jsonl",
                    self.folder / f"replica-{number}.log",
                )
                self.members.append(replica)
                self._launch(replica)
            for replica in self.members:
                if not wait_for(replica.ready_url, ready_seconds, replica.process):
                    raise ClusterError(f"{replica.name} did not become ready; see {replica.log}")
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        self._keeper = threading.Thread(target=self._keep_alive, name="cluster-keeper", daemon=True)
        self._keeper.start()

    def _launch(self, replica: Replica) -> None:
        env = {
            **os.environ,
            **self.env,
            "GUIDE_FEEDBACK_URL": self.feedback_url or "",
            "GUIDE_FEEDBACK_SPOOL": str(replica.spool),
            "GUIDE_REPLICA": replica.name,
            "GUIDE_ALLOW_REBUILD": "false",
        }
        command = [sys.executable, "-m", "guide.serve.replica", "--port", str(replica.port)]
        command += ["--health-port", str(replica.health_port)]
        with replica.log.open("ab") as log:
            replica.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def _start_nginx(self) -> None:
        assert self.folder is not None
        prefix = self.folder / "nginx"
        (prefix / "tmp").mkdir(parents=True)
        user = ""
        if os.geteuid() == 0:
            # Workers drop to nobody; they write only request bodies, under tmp/.
            user = "user nobody nogroup;"
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (prefix / "tmp" / sub).mkdir()
                shutil.chown(prefix / "tmp" / sub, "nobody")
        servers = "\n".join(
            f"        server 127.0.0.1:{replica.port} max_fails=1 fail_timeout=3s;" for replica in self.members
        )
        config = (
            TEMPLATE.read_text(encoding="utf-8")
            .replace("@PREFIX@", str(prefix))
            .replace("@USER@", user)
            .replace("@SERVERS@", servers)
            .replace("@LISTEN@", f"127.0.0.1:{self.port}")
            .replace("@CONNECTIONS@", str(self.connections_per_address))
            .replace("@RATE@", str(self.requests_per_second))
            .replace("@BURST@", str(self.request_burst))
            .replace("@SECURE@", "; Secure" if self.secure_cookie else "")
        )
        (prefix / "nginx.conf").write_text(config, encoding="utf-8")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with (prefix / "stdout.log").open("ab") as log:
            self.nginx = subprocess.Popen(
                [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_for(f"{self.url}/_stcore/health", 30, self.nginx):
            raise ClusterError(f"nginx did not start; see {prefix / 'error.log'}")

    def _keep_alive(self) -> None:
        """Start again a replica that died, `restart_delay` seconds later (its spool is stored once it is back)."""
        died: dict[int, float] = {}
        while not self._stopping:
            for replica in self.members:
                process = replica.process
                if self._stopping or process is None or process.poll() is None:
                    continue
                if replica.number not in died:
                    logger.warning("%s exited (%s); starting it again", replica.name, process.returncode)
                    died[replica.number] = time.monotonic()
                if time.monotonic() - died[replica.number] >= self.restart_delay:
                    del died[replica.number]
                    replica.restarts += 1
                    self._launch(replica)
            time.sleep(0.2)

    def kill(self, number: int, sig: int = signal.SIGKILL) -> None:
        """Send a signal to one replica (the keeper starts it again if it dies)."""
        process = self.members[number - 1].process
        if process is not None:
            process.send_signal(sig)

    def stop(self) -> None:
        """Drain and stop the replicas, then nginx and PostgreSQL, and remove the folder."""
        self._stopping = True
        for replica in self.members:
            if replica.process is not None and replica.process.poll() is None:
                replica.process.terminate()
        for replica in self.members:
            if replica.process is not None:
                try:
                    replica.process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    replica.process.kill()
                    replica.process.wait()
        stored = self._store_spools()
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish the requests in progress
            try:
                self.nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        if self.postgres is not None:
            self.postgres.stop()
        if self.folder is not None:
            if stored:
                shutil.rmtree(self.folder, ignore_errors=True)
            else:
                logger.warning("Feedback could not be stored; it is kept in %s", self.folder)

    def _store_spools(self) -> bool:
        """Feedback still waiting in a replica's spool goes to the database before the end."""
        if not self.feedback_url:
            return True
        from guide.serve.feedback_store import FeedbackStore, FeedbackUnavailable, Spool

        stored = True
        store = FeedbackStore(self.feedback_url)
        try:
            for replica in self.members:
                try:
                    Spool(replica.spool).drain(store)
                except FeedbackUnavailable as error:
                    logger.warning("%s: feedback left in %s (%s)", replica.name, replica.spool, error)
                    stored = False
        finally:
            store.close()
        return stored
