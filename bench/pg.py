"""The PostgreSQL server itself: fresh databases, and a pgbench TPC-B figure to compare our numbers with."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import psycopg

from bench import SERVER_URL, database_url


def _server() -> dict[str, str]:
    parts = urlsplit(SERVER_URL)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": parts.username or "postgres",
    }


def recreate_database(name: str) -> None:
    """Drop the database if it exists (closing its connections) and create it empty."""
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute(name: str, sql: str) -> list[tuple]:
    """One statement outside a transaction (VACUUM needs that); returns its rows, if any."""
    with psycopg.connect(database_url(name), autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else []


def pgbench_tps(
    *,
    database: str = "loyalty_pgbench",
    scale: int = 10,
    clients: int = 16,
    threads: int = 2,
    seconds: int = 15,
    keep: bool = False,
) -> float:
    """Transactions per second of pgbench's TPC-B-like script on a fresh database of the given scale.

    The reference point for later benchmarks: what this server does with
    simple short transactions when nothing of ours is in the way.
    """
    server = _server()
    connect = ["-h", server["host"], "-p", server["port"], "-U", server["user"]]
    recreate_database(database)
    try:
        subprocess.run(["pgbench", *connect, "-i", "-q", "-s", str(scale), database], check=True, capture_output=True)
        done = subprocess.run(
            ["pgbench", *connect, "-c", str(clients), "-j", str(threads), "-T", str(seconds), database],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        if not keep:
            drop_database(database)
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout) or re.search(
        r"tps = ([\d.]+)", done.stdout
    )
    if not found:
        raise RuntimeError(f"pgbench printed no tps: {done.stdout[-300:]}")
    return float(found.group(1))
