"""Typed readers for configuration from the environment.

Every setting Relay has is read through these helpers, in the style of
healthchecks: junk values are rejected loudly, and a ``<NAME>_FILE`` variable
(a path to a file holding the value, for container secrets) is honoured.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {file_name}: {exc}"
            ) from exc
    return os.environ.get(name)


def env_str(name: str, default: str | object = _MISSING) -> str:
    """Return the variable as a string; without a default, it is required."""
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default  # type: ignore[return-value]
    return value


def env_bool(name: str, default: bool | object = _MISSING) -> bool:
    """Return the variable as a boolean: only ``true`` and ``false`` are accepted."""
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default  # type: ignore[return-value]
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {value!r}.")
    return lowered == "true"


def env_int(name: str, default: int | object = _MISSING) -> int:
    """Return the variable as an integer."""
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default  # type: ignore[return-value]
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be an integer, not {value!r}."
        ) from exc


def env_list(name: str, default: list[str] | object = _MISSING) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    value = _raw(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return list(default)  # type: ignore[call-overload]
    return [item.strip() for item in value.split(",") if item.strip()]


def env_prefixed(prefix: str) -> dict[str, str]:
    """Return every variable starting with ``prefix``, keyed by the rest of its name."""
    return {
        name[len(prefix) :]: value
        for name, value in os.environ.items()
        if name.startswith(prefix) and not name.endswith("_FILE") and value != ""
    } | {
        name[len(prefix) : -len("_FILE")]: _raw(name[: -len("_FILE")]) or ""
        for name in os.environ
        if name.startswith(prefix) and name.endswith("_FILE")
    }
