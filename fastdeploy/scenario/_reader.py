"""Typed reading of parsed TOML with key paths: every complaint names where it is."""

from __future__ import annotations

import datetime
import difflib
import re

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
MISSING = object()


class ScenarioError(ValueError):
    """A mistake in a scenario file.

    The message reads ``FILE: KEY.PATH: what is wrong`` (or ``FILE:LINE: ...`` for TOML
    syntax errors).

    Attributes:
        file: The file name (``<string>`` for text).
        key: The key path of the mistake (e.g. ``autoscalers[0].policy.target``), or
            None when the mistake is not at one key.
        line: The line of a TOML syntax error, else None.
        detail: The message without the location.
    """

    def __init__(self, detail: str, *, file: str = "<string>", key: str | None = None,
                 line: int | None = None):
        self.file = file
        self.key = key
        self.line = line
        self.detail = detail
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {key}: {detail}" if key else f"{where}: {detail}")


def join(path: str, key) -> str:
    """``path`` extended by a table key or an array index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _BARE_KEY.match(key) else '"' + key.replace('"', '\\"') + '"'
    return f"{path}.{part}" if path else part


def describe(value) -> str:
    """A value as the message shows it, with its TOML type."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value!r} (a float)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (datetime.date, datetime.time)):
        return f"{value.isoformat()} (a date/time)"
    return repr(value)


class Context:
    """What every reader shares: the file name, for the messages."""

    def __init__(self, file: str):
        self.file = file

    def error(self, key: str | None, detail: str) -> ScenarioError:
        return ScenarioError(detail, file=self.file, key=key)


# -- value checkers: (ctx, path, value) -> value -----------------------------------------------
def number(ctx, path, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(path, f"expected a number, got {describe(value)}")
    return value


def seconds(ctx, path, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(path, f"expected a number of seconds, got {describe(value)}")
    return value


def integer(ctx, path, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(path, f"expected an integer, got {describe(value)}")
    return value


def boolean(ctx, path, value):
    if not isinstance(value, bool):
        raise ctx.error(path, f"expected true or false, got {describe(value)}")
    return value


def string(ctx, path, value):
    if not isinstance(value, str):
        raise ctx.error(path, f"expected a string, got {describe(value)}")
    if not value:
        raise ctx.error(path, "expected a non-empty string, got ''")
    return value


def text(ctx, path, value):
    """Any string, empty included."""
    if not isinstance(value, str):
        raise ctx.error(path, f"expected a string, got {describe(value)}")
    return value


def array(ctx, path, value):
    if not isinstance(value, list):
        raise ctx.error(path, f"expected an array, got {describe(value)}")
    return value


def table(ctx, path, value):
    if not isinstance(value, dict):
        raise ctx.error(path, f"expected a table, got {describe(value)}")
    return value


def choice(options):
    """A string among ``options``."""
    def check(ctx, path, value):
        if not isinstance(value, str) or value not in options:
            raise ctx.error(path, f"expected one of {', '.join(repr(o) for o in options)}, "
                                  f"got {describe(value)}{hint(value, options)}")
        return value
    return check


def hint(value, options) -> str:
    if isinstance(value, str):
        close = difflib.get_close_matches(value, list(options), n=1)
        if close:
            return f" (did you mean {close[0]!r}?)"
    return ""


class Table:
    """A TOML table being read. ``allow`` refuses keys outside a list (typos) before
    anything is read, so a misspelt key is reported as such, not as a missing one."""

    def __init__(self, ctx: Context, path: str, data, allowed=None):
        self.ctx = ctx
        self.path = path
        self.data = table(ctx, path, data)
        if allowed is not None:
            self.allow(allowed)

    def key(self, name) -> str:
        return join(self.path, name)

    def has(self, name: str) -> bool:
        return name in self.data

    def allow(self, allowed) -> None:
        """Refuse any key not in ``allowed``, naming it and listing the accepted keys."""
        allowed = list(allowed)
        for k in self.data:
            if k not in allowed:
                listing = ", ".join(allowed) if allowed else "no keys"
                raise self.ctx.error(self.key(k), f"unknown key{hint(k, allowed)}; expected "
                                                  f"{'one of ' if len(allowed) > 1 else ''}"
                                                  f"{listing}")

    def take(self, name: str, check=None, default=MISSING):
        """The value at ``name`` passed through ``check``; ``default`` when absent (an
        error naming the key when there is no default)."""
        if name not in self.data:
            if default is MISSING:
                where = f" (in {self.path})" if self.path else ""
                raise self.ctx.error(self.key(name), f"missing required key{where}")
            return default
        value = self.data[name]
        return value if check is None else check(self.ctx, self.key(name), value)

    def sub(self, name: str, allowed=None, default=MISSING):
        """The table at ``name`` as a Table (``default`` when absent)."""
        if name not in self.data and default is not MISSING:
            return default
        return Table(self.ctx, self.key(name), self.take(name), allowed)
