"""Where photos go. A file store takes bytes and gives back a key; the default keeps files in a local folder.

Another backend (S3, MinIO) only needs `put`, `path_or_url` and `read`; choose it with PIKIR_FILE_STORE.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

MAX_BYTES = 10 * 1024 * 1024  # the largest photo a complaint or an idea takes
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/heic": ".heic",
               "image/gif": ".gif"}


class FileStore(Protocol):
    def put(self, data: bytes, mime: str) -> str: ...
    def read(self, key: str) -> bytes: ...
    def path_or_url(self, key: str) -> str: ...


class TooLarge(ValueError):
    pass


def sniff_image(data: bytes) -> str | None:
    """The image type from the file's first bytes: a client's claimed type is not trusted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1"):
        return "image/heic"
    return None


class LocalFileStore:
    """Content-addressed files under one folder: the key is the SHA-256 of the bytes, so a photo sent twice is
    kept once, and a key says nothing about who sent it."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def put(self, data: bytes, mime: str) -> str:
        if len(data) > MAX_BYTES:
            raise TooLarge(len(data))
        key = hashlib.sha256(data).hexdigest() + IMAGE_TYPES.get(mime, ".bin")
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: a crash never leaves half a photo under a valid key.
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
                handle.write(data)
            os.replace(handle.name, path)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def path_or_url(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"not a file key: {key!r}")
        return self.root / key[:2] / key


def make_store(kind: str, data_dir: Path) -> FileStore:
    if kind in ("", "local"):
        return LocalFileStore(Path(data_dir) / "files")
    raise ValueError(f"unknown file store {kind!r} (PIKIR_FILE_STORE): only 'local' is built in")
