"""gunicorn configuration: `gunicorn -c deploy/gunicorn.conf.py helpdesk.wsgi` (bin/serve does).

Everything comes from the environment:
  WEB_BIND            address to listen on (default 0.0.0.0:$PORT, PORT default 8000)
  WEB_WORKERS         worker processes (default 2; about 2 per core)
  WEB_THREADS         threads per worker (default 1: synchronous workers)
  WEB_TIMEOUT         seconds before a silent worker is killed and replaced (default 30)
  WEB_ACCESS_LOG      where access lines go: "-" (stdout, default), a file, or "" for none
  FORWARDED_ALLOW_IPS proxies trusted for X-Forwarded-* (default 127.0.0.1)
  LOG_FORMAT          json (default without DEBUG) or plain: gunicorn's own lines too
"""

from __future__ import annotations

import os
from typing import Any

_env = os.environ.get

bind = _env("WEB_BIND") or f"0.0.0.0:{_env('PORT', '8000')}"
workers = int(_env("WEB_WORKERS", "2"))
threads = int(_env("WEB_THREADS", "1"))
timeout = int(_env("WEB_TIMEOUT", "30"))
graceful_timeout = int(_env("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Workers are not recycled by default: each process writes its own metrics files, and a fresh
# process per N requests would grow that folder (set WEB_MAX_REQUESTS to recycle anyway).
max_requests = int(_env("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "helpdesk-web"
# Each line: client, request, status, bytes, milliseconds and the request id the app answered.
accesslog = _env("WEB_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = _env("LOG_LEVEL", "info").lower()

_debug = _env("DEBUG", "false").lower() in {"1", "true", "yes", "on"}
if _env("LOG_FORMAT", "plain" if _debug else "json") == "json":
    logconfig_dict: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": loglevel.upper()},
        "loggers": {
            "gunicorn.error": {
                "handlers": ["stdout"],
                "level": loglevel.upper(),
                "propagate": False,
            },
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }


def child_exit(server: Any, worker: Any) -> None:
    """A worker's live gauges leave with it (prometheus-client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # noqa: PLC0415 - only in multiprocess mode

        multiprocess.mark_process_dead(worker.pid)
