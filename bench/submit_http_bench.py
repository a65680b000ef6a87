"""Tickets accepted per second over HTTP: gunicorn (2 workers) and concurrent signed-in customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_submit \\
    REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/submit_http_bench.py [--customers 20] [--seconds 20] [--workers 2]

The database must be migrated and scratch: like bench/submit_bench.py it loads the vmoso policy
and an organization `bench-submit`, here with `--customers` named contacts, each signed in with
its own session. gunicorn serves the product with production settings (DEBUG off) on a free local
port; each customer fetches the form once (CSRF token), and once all have it they post new
tickets back to back for `--seconds`. Prints accepted tickets per second, p50 / p95 latency and
the gunicorn workers' CPU time per ticket (read from /proc; on a shared machine the rate follows
the load, the CPU per ticket much less), then stops gunicorn. The acknowledgement mails are only
enqueued (no qcluster runs): use a Redis database of your own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("EMAIL_URL", "dummymail://")
# Production static files (fingerprinted, served by WhiteNoise) in a folder of the bench's own.
os.environ.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench-static"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import (  # noqa: E402
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402

from plans.models import Contract, NamedContact, Organization, Plan  # noqa: E402

POLICY = ROOT / "examples" / "policies" / "vmoso.yaml"
PLAN = "vmoso-standard"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def session_cookies(customers: int) -> list[str]:
    """A signed-in session per named contact of the bench organization."""
    if not Plan.objects.filter(slug=PLAN).exists():
        call_command("load_policy", str(POLICY), verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-submit", defaults={"name": "Bench submitter", "time_zone": "Europe/London"}
    )
    if not Contract.objects.filter(organization=org).exists():
        Contract.objects.create(
            organization=org, plan=Plan.objects.get(slug=PLAN), starts_on=dt.date(2020, 1, 1)
        )
    cookies = []
    for n in range(customers):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench-http-{n}", defaults={"email": f"http{n}@example.com"}
        )
        NamedContact.objects.get_or_create(organization=org, user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        # The backend that signs a password in (Axes' backend only guards, it finds no users).
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    return cookies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(workers),
        "WEB_ACCESS_LOG": "",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "plain",  # with WEB_ACCESS_LOG empty: no line per request
    }
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        + ["helpdesk.wsgi:application"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if len(worker_pids(process.pid)) == workers:
                return process
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit("gunicorn did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time these processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def worker_pids(master: int) -> list[int]:
    with open(f"/proc/{master}/task/{master}/children") as children:
        return [int(pid) for pid in children.read().split()]


def database_pids() -> list[int]:
    """The PostgreSQL server's processes when it runs on this machine and we may read its pid
    file (a superuser connection on the same host); otherwise none, and no figure is printed."""
    from django.db import connection  # noqa: PLC0415 - after django.setup()

    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            (folder,) = cursor.fetchone()
        with open(Path(folder) / "postmaster.pid") as pid_file:
            master = int(pid_file.readline())
        pids = [master]
        for task in os.listdir(f"/proc/{master}/task"):
            with open(f"/proc/{master}/task/{task}/children") as children:
                pids += [int(pid) for pid in children.read().split()]
        return pids
    except (OSError, ValueError, Exception):  # not ours to read: leave the figure out
        return []


def alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


class Run:
    """The timed window, opened once every customer holds its form (the GETs are not timed)."""

    def __init__(self, seconds: float, workers: list[int]) -> None:
        self.seconds = seconds
        self.workers = workers
        self.started = self.until = 0.0
        self.cpu = self.client_cpu = self.database_cpu = 0.0
        self.database: list[int] = []

    def open(self) -> None:
        # The database's processes of this moment (its connections from the workers exist by now).
        self.database = alive(database_pids())
        self.database_cpu = cpu_seconds(self.database)
        self.client_cpu = time.process_time()
        self.cpu = cpu_seconds(self.workers)
        self.started = time.monotonic()
        self.until = self.started + self.seconds


def customer(
    port: int,
    cookie: str,
    run: Run,
    gate: threading.Barrier,
    latencies: list[float],
    errors: list[str],
    n: int,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/tickets/new/", headers={"Cookie": cookie, "Host": "localhost"})
    response = conn.getresponse()
    body = response.read()
    csrf = response.getheader("Set-Cookie", "").split(";")[0]
    match = TOKEN.search(body)
    if response.status != 200 or match is None or not csrf:
        errors.append(f"form answered {response.status}")
        gate.abort()
        return
    headers = {
        "Cookie": f"{cookie}; {csrf}",
        "Host": "localhost",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    count = 0
    try:
        gate.wait()
    except threading.BrokenBarrierError:
        return
    while time.monotonic() < run.until:
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "subject": f"HTTP bench {n}-{count}",
                "severity": str(count % 4 + 1),
                "channel": "portal",
                "body": "Submitted over **HTTP** by the bench.",
            }
        )
        started = time.perf_counter()
        conn.request("POST", "/tickets/new/", body=form, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            errors.append(f"submission answered {response.status}")
            return
        latencies.append(time.perf_counter() - started)
        count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    call_command("collectstatic", interactive=False, verbosity=0)
    cookies = session_cookies(args.customers)
    port = free_port()
    process = start_gunicorn(port, args.workers)
    latencies: list[float] = []
    errors: list[str] = []
    try:
        workers = worker_pids(process.pid)
        run = Run(args.seconds, workers)
        gate = threading.Barrier(len(cookies), action=run.open)
        threads = [
            threading.Thread(target=customer, args=(port, c, run, gate, latencies, errors, n))
            for n, c in enumerate(cookies)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - run.started
        cpu = cpu_seconds(workers) - run.cpu
        client_cpu = time.process_time() - run.client_cpu
        database_cpu = cpu_seconds(alive(run.database)) - run.database_cpu if run.database else None
    finally:
        stop(process)
    if errors:
        print(f"errors: {len(errors)}, first: {errors[0]}")
    if not latencies:
        raise SystemExit("no ticket accepted")
    latencies.sort()
    print(
        f"{len(latencies)} tickets in {elapsed:.1f} s by {args.customers} customers, "
        f"{args.workers} gunicorn workers: {len(latencies) / elapsed:.1f} tickets/s, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms; "
        f"gunicorn workers' CPU {cpu * 1000 / len(latencies):.1f} ms per ticket; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    per_ticket = 1000 / len(latencies)
    parts = [f"this client {client_cpu * per_ticket:.1f} ms"]
    if database_cpu is not None:
        parts.append(f"PostgreSQL {database_cpu * per_ticket:.1f} ms")
    print(f"other CPU per ticket: {', '.join(parts)}")


if __name__ == "__main__":
    main()
