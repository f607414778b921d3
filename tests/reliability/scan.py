"""Looking for a secret in everything Airflow keeps: files, and every value of its metadata DB.

A secret is looked for as written, URL-encoded, JSON-escaped, as the random part of it alone,
and in base64 at each of the three alignments it can have inside a longer encoded text.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet, InvalidToken


@dataclass(frozen=True)
class Finding:
    """A form of the secret, found somewhere."""

    where: str
    form: str


def secret_forms(secret: str) -> dict[str, bytes]:
    """Every form of ``secret`` worth looking for, by name."""
    raw = secret.encode()
    forms = {
        "as written": raw,
        "URL-encoded": quote(secret, safe="").encode(),
        "form-encoded": quote_plus(secret).encode(),
        "JSON-escaped": json.dumps(secret)[1:-1].encode(),
    }
    tail = secret.rsplit("-", 1)[-1]
    if len(tail) >= 16 and tail != secret:
        forms["random part"] = tail.encode()
    for offset in range(3):
        bits = 8 * (offset + len(raw))
        for name, encode in (("base64", base64.b64encode), ("urlsafe base64", _urlsafe)):
            encoded = encode(b"\0" * offset + raw)
            # Only the characters that depend on the secret's bytes alone.
            forms[f"{name} +{offset}"] = encoded[-(-8 * offset // 6) : bits // 6]
    return forms


def _urlsafe(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data)


def find(data: str | bytes, forms: dict[str, bytes], where: str) -> list[Finding]:
    """The forms of the secret that ``data`` holds."""
    blob = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return [Finding(where, name) for name, form in forms.items() if form and form in blob]


def scan_files(root: Path, forms: dict[str, bytes]) -> tuple[list[Finding], Counter[str]]:
    """Every file under ``root``, byte for byte (an SQLite file's free pages included)."""
    findings: list[Finding] = []
    counts: Counter[str] = Counter()
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        counts["files"] += 1
        if path.suffix == ".log" or ".log." in path.name or path.parent.name.startswith("attempt"):
            counts["log files"] += 1
        findings += find(path.read_bytes(), forms, str(path.relative_to(root)))
    return findings, counts


def _readings(value: object, fernet: Fernet) -> Iterable[tuple[str, bytes]]:
    """A DB value as stored, and decrypted or decompressed when it is that kind of value."""
    if isinstance(value, str):
        yield "", value.encode("utf-8", "replace")
        plain = None
        if value.startswith("gAAAAA"):
            with contextlib.suppress(InvalidToken):
                plain = fernet.decrypt(value.encode())
        if plain is not None:
            yield " (decrypted)", plain
    elif isinstance(value, bytes):
        yield "", value
        inflated = None
        with contextlib.suppress(zlib.error):
            inflated = zlib.decompress(value)
        if inflated is not None:
            yield " (decompressed)", inflated
    elif value is not None:
        yield "", str(value).encode()


def scan_database(
    db_path: Path, fernet_key: str, forms: dict[str, bytes]
) -> tuple[list[Finding], Counter[str]]:
    """Every value of every column of every table, Fernet tokens decrypted on the way."""
    fernet = Fernet(fernet_key.encode())
    findings: list[Finding] = []
    counts: Counter[str] = Counter()
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            counts["tables"] += 1
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [column[0] for column in cursor.description]
            for number, row in enumerate(cursor):
                counts["rows"] += 1
                if table == "trigger":
                    counts["trigger rows"] += 1
                for column, value in zip(columns, row, strict=True):
                    for how, blob in _readings(value, fernet):
                        counts["values read"] += 1
                        if how == " (decrypted)":
                            counts["values decrypted"] += 1
                        where = f"{table}.{column} row {number}{how}"
                        findings += find(blob, forms, where)
    finally:
        db.close()
    return findings, counts


def unwrap(value: object) -> object:
    """A value that Airflow's serialisation wrapped in ``{"__type": ..., "__var": ...}``, bare."""
    if isinstance(value, dict):
        if "__var" in value and "__type" in value:
            return unwrap(value["__var"])
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def scan_home(
    root: Path, db_path: Path, fernet_key: str, forms: dict[str, bytes]
) -> tuple[list[Finding], dict[str, int]]:
    """The files under ``root`` and the metadata DB's values."""
    file_findings, file_counts = scan_files(root, forms)
    db_findings, db_counts = scan_database(db_path, fernet_key, forms)
    return file_findings + db_findings, dict(file_counts + db_counts)
