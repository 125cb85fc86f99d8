"""Typed readers for environment variables.

Every setting Hearth reads comes through here, so a malformed value stops start-up with a
message that names the variable instead of surfacing later as a confusing crash.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """A setting in the environment is malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_choice(name: str, default: str, *, choices: tuple[str, ...]) -> str:
    """One of `choices` (upper-case words, read case-insensitively)."""
    value = os.environ.get(name, default).strip().upper()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (for container secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return Path(raw).expanduser().resolve()


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_path_list(name: str, default: list[Path]) -> list[Path]:
    """Comma-separated absolute folders (a leading ~ is the home folder); a relative one stops start-up."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    paths = []
    for item in raw.split(","):
        if not item.strip():
            continue
        path = Path(item.strip()).expanduser()
        if not path.is_absolute():
            raise ConfigError(f"{name}: {item.strip()!r} is not a full path; give folders starting with / or ~")
        paths.append(path)
    return paths


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default)
    parts = urlsplit(raw)
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{name}={raw!r} must start with one of {allowed}")
    if parts.scheme not in {"unix", "sqlite"} and not parts.hostname:
        raise ConfigError(f"{name}={raw!r} has no host name")
    return raw


def env_https(name: str, default: str = "auto") -> tuple[str, Path | None, Path | None]:
    """How to serve HTTPS: ("auto", None, None), ("off", None, None) or ("files", cert, key).

    auto (also on/1/true/yes or empty) uses the household CA; off (0/false/no) serves plain HTTP only;
    "<cert.pem>,<key.pem>" serves your own certificate chain and key, which must be readable files.
    """
    raw = os.environ.get(name, default)
    value = raw.strip()
    if value.lower() in _TRUE | {"", "auto"}:
        return "auto", None, None
    if value.lower() in _FALSE | {"off"}:
        return "off", None, None
    cert_raw, comma, key_raw = value.partition(",")
    if not comma or not cert_raw.strip() or not key_raw.strip():
        raise ConfigError(f"{name}={raw!r}: use auto, off, or the certificate and key files as <cert.pem>,<key.pem>")
    files = []
    for label, text in (("certificate", cert_raw), ("key", key_raw)):
        path = Path(text.strip()).expanduser().resolve()
        try:
            path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{name}: the {label} file {path} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"{name}: the {label} file {path} cannot be read: {exc}") from None
        files.append(path)
    return "files", files[0], files[1]
