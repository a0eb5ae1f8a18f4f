"""Benchmarks against the local PostgreSQL server; run with `make bench` (see bench/__main__.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The server, without a database name; trust authentication, as in development and CI.
SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")


def database_url(name: str) -> str:
    return f"{SERVER_URL}/{name}"


def say(text: str = "") -> None:
    """A human-readable line; the machine-readable figures come last, as one JSON line."""
    print(text, flush=True)


def django_env(database: str) -> dict[str, str]:
    # DEBUG on, so the development encryption keys apply; never a production setting.
    return {**os.environ, "DATABASE_URL": database_url(database), "DJANGO_DEBUG": "1"}


def manage(
    database: str, *args: str, timeout: float = 3600, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    """Run `manage.py <args>` against a database; returns the finished process and its wall-clock seconds.

    `env` adds to (or overrides) the development environment."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env={**django_env(database), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done, time.perf_counter() - started


def probe(
    database: str,
    module: str,
    *args: str,
    timeout: float = 1800,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> dict:
    """Run `python -m <module>` under Django against a database and return the JSON line it ends with.

    `env` replaces the development environment (bench.terminal_api.production_env for production settings);
    `stdin` is what the module reads there, for secrets that should not appear in a process listing.
    """
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env or django_env(database),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{module} failed (exit {done.returncode}): " + " | ".join(tail))
    return json.loads(lines[-1])


def section(figures: dict, name: str, run, *args, **kwargs) -> None:
    """Run one section of the bench into `figures`; a failure is recorded under errors[name], and the next
    section still runs."""
    try:
        run(figures, *args, **kwargs)
    except Exception as exc:
        figures.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
        say(f"   ! {name} failed: {figures['errors'][name]}")


def finish(figures: dict, started: float) -> int:
    """Print the closing line and the one JSON line of figures; the exit status says whether all ran."""
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    say(f"== done in {figures['bench_seconds']:.0f} s")
    print(json.dumps(figures, ensure_ascii=False), flush=True)
    return 1 if figures.get("errors") else 0


def alone(issue: str, name: str, run, **kwargs) -> int:
    """One section run by itself (`python -m bench.<name>`): its figures, the closing line and the JSON line."""
    started = time.perf_counter()
    figures: dict = {"issue": issue}
    section(figures, name, run, **kwargs)
    return finish(figures, started)
