"""The example database of a run (``--example-db``): a directory or a Redis server, and CI's replay of it.

Hypothesis saves every failing example it shrank in the database and replays it first in the next run.
``dev`` and ``nightly`` read and write the database; ``ci`` is derandomized (Hypothesis then uses no
database), so :func:`conformance.properties.run` replays the saved failures read-only before the
derandomized run: a failure a nightly run found fails the next CI run too.
"""
from __future__ import annotations

import pathlib
import urllib.parse

from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase

_replay: ExampleDatabase | None = None


class ExampleDbError(ValueError):
    """An ``--example-db`` value the kit cannot use: its message is the one line the user sees."""


def default_database() -> ExampleDatabase:
    """Hypothesis' usual database (``.hypothesis/examples`` in the current directory), whatever profile
    is loaded (Hypothesis' own ``ci`` profile, loaded under ``CI=true``, has none)."""
    return settings.get_profile("default").database


def open_database(spec: str) -> ExampleDatabase:
    """``redis://host:port/N`` (checked reachable) or a directory (created if missing)."""
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return _redis(spec)
    if "://" in spec:
        raise ExampleDbError(f"--example-db {spec!r}: expected a directory or redis://host:port/N")
    path = pathlib.Path(spec).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExampleDbError(f"--example-db {spec!r}: cannot use it as a directory ({error.strerror})") from None
    return DirectoryBasedExampleDatabase(str(path))


def describe(spec: str | None) -> str:
    """``spec`` for a report header: a Redis URL without its password; the default directory if None."""
    if spec is None:
        return "default (.hypothesis/examples)"
    parts = urllib.parse.urlsplit(spec)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return spec


def _redis(url: str) -> ExampleDatabase:
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError:
        raise ExampleDbError(f"--example-db {url!r} needs the redis package: "
                             f"pip install 'torch-inplace-conformance[nightly]'") from None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as error:
        raise ExampleDbError(f"--example-db {describe(url)!r}: cannot reach Redis ({error})") from None
    return RedisExampleDatabase(client)


def set_replay(database: ExampleDatabase | None) -> None:
    """The database a derandomized run replays read-only before generating (None: no replay)."""
    global _replay
    _replay = database


def replay_database() -> ExampleDatabase | None:
    return _replay
