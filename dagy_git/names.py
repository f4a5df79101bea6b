"""Name rules (flows, deployments, namespaces, versions, tag keys) and version escaping.

Versions and flow names are free-form, so wherever one becomes a path segment or a git ref
component it is escaped by the single reversible rule of `encode_version` (`encode_name`).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import Any

from dagy_git.errors import InvalidNameError

__all__ = [
    "MAX_NAME",
    "decode_name",
    "decode_version",
    "encode_name",
    "encode_version",
    "parse_flow_ref",
    "parse_key_value",
    "validate_deployment_name",
    "validate_name",
    "validate_namespace",
    "validate_parameters",
    "validate_tag",
    "validate_tags",
    "validate_version",
]

MAX_NAME = 128
MAX_VERSION = 128
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 512

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.-]+\Z")
_TAG_KEY_RE = re.compile(r"[A-Za-z0-9_./-]+\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Invisible format characters and line/paragraph separators (e.g. U+202E, U+200B, U+2028)
# would make tables and logs lie about which version is which.
_INVISIBLE = frozenset(("Cf", "Zl", "Zp"))
# A version becomes one file name inside a ref path; most file systems stop at 255 bytes.
MAX_VERSION_KEY = 200
# Names whose rule stays strict: they are used unescaped as registry file names.
_STRICT_KINDS = frozenset({"deployment name", "draft id"})
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-")


def validate_name(name: object, what: str = "flow name") -> str:
    """Check a flow or task name (free-form, DESIGN.md) or, for `what` = deployment name or
    draft id, the strict `[A-Za-z0-9][A-Za-z0-9_.-]*` rule; at most 128 characters."""
    if what in _STRICT_KINDS:
        return validate_deployment_name(name, what)
    if not isinstance(name, str):
        raise InvalidNameError(f"{what} must be a string, got {type(name).__name__}")
    if not name or name.isspace():
        raise InvalidNameError(f"{what} must not be empty or only whitespace")
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"{what} {name[:40]!r}… is longer than {MAX_NAME} characters")
    if "@" in name:
        # `FLOW@VERSION` splits at the first `@` on the command line.
        raise InvalidNameError(
            f"invalid {what} {name!r}: it cannot contain '@'",
            hint="'@' separates a flow's name from its version on the command line",
        )
    _check_visible(name, f"{what} {name!r}")
    # Each UTF-8 byte escapes to at most 3 characters: most names need no encoding to know.
    if (
        len(name.encode("utf-8", "surrogatepass")) * 3 > MAX_VERSION_KEY
        and len(encode_name(name)) > MAX_VERSION_KEY
    ):
        raise InvalidNameError(
            f"{what} {name[:40]!r}… is too long once escaped for a git tag name "
            f"(more than {MAX_VERSION_KEY} characters)",
            hint="use fewer non-ASCII or special characters",
        )
    return name


def validate_deployment_name(name: object, what: str = "deployment name") -> str:
    """Check a deployment name (or draft id): `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 128."""
    if not isinstance(name, str):
        raise InvalidNameError(f"{what} must be a string, got {type(name).__name__}")
    if not name:
        raise InvalidNameError(f"{what} must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"{what} {name[:40]!r}… is longer than {MAX_NAME} characters")
    if not _NAME_RE.match(name):
        raise InvalidNameError(
            f"invalid {what} {name!r}",
            hint="use letters, digits, '_', '.' and '-', starting with a letter or digit",
        )
    # Deployment names are file names on the registry branch, unescaped: no `..`, no
    # trailing `.` or `.lock`, as git forbids in a ref component.
    if ".." in name or name.endswith((".", ".lock")):
        raise InvalidNameError(
            f"invalid {what} {name!r}: it cannot contain '..' or end in '.' or '.lock'",
            hint="the name becomes part of a git ref or path",
        )
    return name


def _check_visible(text: str, what: str) -> None:
    """Refuse control, invisible and lone-surrogate characters (tables and logs would lie,
    and a lone surrogate cannot even be written as UTF-8)."""
    if _CONTROL_RE.search(text):
        raise InvalidNameError(f"{what} contains a control character")
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs":
            raise InvalidNameError(f"{what} contains a lone surrogate ({ch!r})")
        if category in _INVISIBLE:
            raise InvalidNameError(f"{what} contains an invisible format character")


def validate_namespace(namespace: object) -> str:
    """Check a namespace: `""` or `/`-joined segments of `[A-Za-z0-9_.-]+`, no `.`/`..`."""
    if not isinstance(namespace, str):
        raise InvalidNameError(f"namespace must be a string, got {type(namespace).__name__}")
    if namespace == "":
        return namespace
    for segment in namespace.split("/"):
        if segment in (".", "..") or not _SEGMENT_RE.match(segment):
            raise InvalidNameError(
                f"invalid namespace {namespace!r}",
                hint="segments of letters, digits, '_', '.', '-' joined by '/', "
                "no '.' or '..' segment and no leading or trailing '/'",
            )
    return namespace


def validate_version(version: object) -> str:
    """Check a flow version: free-form, 1 to 128 characters, no control or invisible ones."""
    if not isinstance(version, str):
        raise InvalidNameError(f"version must be a string, got {type(version).__name__}")
    return _checked_version(version)


@functools.lru_cache(maxsize=8192)  # a deploy of 5,000 flows checks a handful of versions
def _checked_version(version: str) -> str:
    if not version:
        raise InvalidNameError("version must not be empty")
    if len(version) > MAX_VERSION:
        raise InvalidNameError(f"version {version[:40]!r}… is longer than {MAX_VERSION} characters")
    _check_visible(version, f"version {version!r}")
    if (
        len(version.encode("utf-8", "surrogatepass")) * 3 > MAX_VERSION_KEY
        and len(encode_version(version)) > MAX_VERSION_KEY
    ):
        raise InvalidNameError(
            f"version {version[:40]!r}… is too long once escaped for a git tag name "
            f"(more than {MAX_VERSION_KEY} characters)",
            hint="use fewer non-ASCII or special characters",
        )
    return version


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """Check one dagy tag: key `[A-Za-z0-9_./-]+` (≤128), value any string (≤512)."""
    if not isinstance(key, str) or not key or len(key) > MAX_TAG_KEY or not _TAG_KEY_RE.match(key):
        raise InvalidNameError(
            f"invalid tag key {key!r}",
            hint="tag keys use letters, digits, '_', '.', '/', '-' (at most 128)",
        )
    if not isinstance(value, str):
        raise InvalidNameError(f"tag {key!r}: value must be a string, got {type(value).__name__}")
    if len(value) > MAX_TAG_VALUE:
        raise InvalidNameError(f"tag {key!r}: value is longer than {MAX_TAG_VALUE} characters")
    return key, value


def validate_tags(tags: object) -> dict[str, str]:
    """Check a whole tag mapping and return it as a plain `dict`."""
    if not isinstance(tags, dict):
        raise InvalidNameError(f"tags must be a table of strings, got {type(tags).__name__}")
    return dict(validate_tag(k, v) for k, v in tags.items())


def validate_parameters(params: object, where: str = "parameters") -> dict[str, Any]:
    """Check deployment parameters: a table of JSON values (finite numbers, string keys)."""
    if not isinstance(params, dict):
        raise InvalidNameError(f"{where} must be a table, got {type(params).__name__}")

    def check(value: object, at: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            # NaN is stored as null and never equals itself: every deploy would "change" it.
            raise InvalidNameError(f"{where}: {at} is {value}, which JSON cannot hold")
        if isinstance(value, dict):
            for key, sub in value.items():
                if not isinstance(key, str):
                    raise InvalidNameError(f"{where}: {at} has a non-string key {key!r}")
                check(sub, f"{at}.{key}")
        elif isinstance(value, (list, tuple)):
            for i, sub in enumerate(value):
                check(sub, f"{at}[{i}]")
        elif not isinstance(value, (str, int, float, bool, type(None))):
            raise InvalidNameError(f"{where}: {at} is a {type(value).__name__}, not a JSON value")

    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise InvalidNameError(f"{where}: parameter names must be non-empty strings")
        check(value, key)
    return dict(params)


@functools.lru_cache(maxsize=8192)  # a deploy of 5,000 flows asks for a handful of versions
def encode_version(version: str) -> str:
    """Escape a version for use as one path segment or ref component (reversible).

    Every byte outside `[A-Za-z0-9._+-]` is percent-encoded (UTF-8), and so is a `.` that
    leads, that would follow another `.` (`..`), or that starts a trailing `.lock`; the
    result is therefore also a valid git ref component.
    """
    raw = version.encode("utf-8")
    out: list[str] = []
    n = len(raw)
    for i, byte in enumerate(raw):
        if byte == 0x2E and (
            i == 0 or raw[i - 1] == 0x2E or i == n - 1 or raw[i:].lower() == b".lock"
        ):
            out.append("%2E")
        elif byte in _SAFE:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def encode_name(name: str) -> str:
    """Escape a flow name for a path segment or ref component: `encode_version`'s rule.

    It is the identity on the old name alphabet (`[A-Za-z0-9][A-Za-z0-9_.-]*`), so a
    registry written before names could hold spaces reads unchanged.
    """
    return encode_version(name)


def decode_name(key: str) -> str:
    """Invert `encode_name`."""
    return decode_version(key)


def decode_version(key: str) -> str:
    """Invert `encode_version`."""
    raw = bytearray()
    i = 0
    while i < len(key):
        ch = key[i]
        if ch == "%":
            raw.append(int(key[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(ch.encode("ascii"))
            i += 1
    return raw.decode("utf-8")


def parse_flow_ref(ref: str) -> tuple[str, str | None]:
    """Split `FLOW@VERSION` (or a bare `FLOW`) into name and version; the first `@` splits.

    Flow names may hold spaces (`"Daily Sales ETL@1.0"` quoted in a shell), never `@`.
    """
    name, sep, version = ref.partition("@")
    validate_name(name)
    if not sep:
        return name, None
    return name, validate_version(version)


def parse_key_value(item: str, what: str = "tag") -> tuple[str, str]:
    """Split a `KEY=VALUE` command-line item."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise InvalidNameError(f"{what} {item!r} is not KEY=VALUE")
    return key, value
