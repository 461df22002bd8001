"""The data set: manifest, cache, mirror and download, every file verified."""

import functools
import http.server
import logging.handlers
import threading
import time
import zipfile

import pooch
import pytest

from analysis.errors import AnalysisError
from analysis.io import registry


def test_manifest_lists_every_file_once():
    entries = registry.read_manifest()
    assert len(entries) == 48
    for kind in ("images", "foreground"):
        names = [e.file for e in entries if e.kind == kind]
        assert len(names) == len(set(names)) == 24
    assert all(len(e.sha256) == 64 and e.url.startswith("https://") for e in entries)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BBBC008_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_mirror_copy_is_verified_and_cached(empty_cache):
    entry = registry.read_manifest()[0]
    path = registry.fetch(entry)
    assert path == empty_cache / entry.kind / entry.file
    assert registry.sha256(path) == entry.sha256


def test_mirror_with_wrong_hash_is_refused(tmp_path, empty_cache, monkeypatch):
    entry = registry.read_manifest()[0]
    mirror = tmp_path / "mirror"
    (mirror / entry.kind).mkdir(parents=True)
    (mirror / entry.kind / entry.file).write_bytes(b"not the image")
    monkeypatch.setenv("BBBC008_MIRROR", str(mirror))
    with pytest.raises(AnalysisError, match="SHA-256 differs"):
        registry.fetch(entry)
    assert not (empty_cache / entry.kind / entry.file).exists()


def test_no_mirror_and_no_network_fails_fast(tmp_path, empty_cache, monkeypatch):
    entry = registry.read_manifest()[0]
    # A loopback port with no listener: the download is refused at once.
    unreachable = registry.ManifestEntry(
        **{**entry.__dict__, "url": "http://127.0.0.1:9/BBBC008_v1_images.zip"}
    )
    monkeypatch.setenv("BBBC008_MIRROR", str(tmp_path / "no-mirror"))
    pooch_log = logging.handlers.BufferingHandler(capacity=100)
    pooch.get_logger().addHandler(pooch_log)
    start = time.perf_counter()
    try:
        with pytest.raises(AnalysisError, match="cannot download.*BBBC008_MIRROR"):
            registry.fetch(unreachable)
    finally:
        pooch.get_logger().removeHandler(pooch_log)
    assert time.perf_counter() - start < 30
    assert pooch_log.buffer == []  # no "Downloading data from" line beside the error's


@pytest.fixture
def archive_server(tmp_path):
    """A loopback HTTP server (ephemeral port) serving a zip of one real image."""
    entry = registry.read_manifest()[0]
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "images.zip", "w") as archive:
        archive.write(registry.fetch(entry), entry.member)
        archive.writestr("other/ignored.txt", "not extracted")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield entry, f"http://127.0.0.1:{server.server_address[1]}/images.zip"
    server.shutdown()
    server.server_close()


def test_download_unpacks_only_the_member_and_verifies_it(tmp_path, empty_cache, monkeypatch, archive_server):
    entry, url = archive_server
    monkeypatch.setenv("BBBC008_MIRROR", str(tmp_path / "no-mirror"))
    path = registry.fetch(registry.ManifestEntry(**{**entry.__dict__, "url": url}))
    assert path == empty_cache / entry.kind / entry.file
    assert registry.sha256(path) == entry.sha256
    assert not list(empty_cache.rglob("ignored.txt"))
    wrong = registry.ManifestEntry(**{**entry.__dict__, "url": url, "file": "other.tif", "sha256": "0" * 64})
    with pytest.raises(AnalysisError, match="wrong SHA-256"):
        registry.fetch(wrong)
    assert not (empty_cache / entry.kind / "other.tif").exists()


def test_a_file_is_hashed_once_until_it_changes(tmp_path, monkeypatch):
    path = tmp_path / "file.tif"
    path.write_bytes(b"one")
    reads = []
    real = registry.pooch.file_hash
    monkeypatch.setattr(
        registry.pooch, "file_hash", lambda *args, **kw: reads.append(args) or real(*args, **kw)
    )
    registry._file_hash.cache_clear()
    first = registry.sha256(path)
    assert registry.sha256(path) == first
    assert len(reads) == 1
    path.write_bytes(b"other")
    assert registry.sha256(path) != first
    assert len(reads) == 2
