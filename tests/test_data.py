import functools
import http.server
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from analysis import data, images, pairing
from analysis.errors import AnalysisError

# Printed in the lesson for channel 1 of A24 field 1, rows and columns 10..19.
LESSON_BLOCK = np.array(
    [
        [128, 150, 137, 100, 53, 27, 18, 14, 12, 10],
        [155, 177, 172, 136, 73, 38, 21, 15, 11, 11],
        [140, 146, 154, 144, 96, 50, 24, 15, 13, 11],
        [133, 144, 139, 122, 95, 55, 26, 15, 13, 11],
        [114, 117, 122, 103, 78, 46, 22, 14, 11, 10],
        [79, 87, 97, 78, 54, 32, 18, 12, 11, 12],
        [48, 54, 53, 46, 27, 20, 14, 12, 10, 11],
        [20, 22, 23, 20, 15, 13, 13, 11, 11, 11],
        [17, 16, 15, 14, 13, 11, 11, 11, 10, 12],
        [12, 14, 14, 13, 14, 12, 12, 12, 11, 11],
    ]
)


def test_manifest_lists_every_file_once():
    entries = data.read_manifest()
    assert len(entries) == 48
    for kind in ("images", "foreground"):
        names = [e.file for e in entries if e.kind == kind]
        assert len(names) == len(set(names)) == 24
    assert all(len(e.sha256) == 64 and e.url.startswith("https://") for e in entries)


def test_pairs_are_matched_by_name(pairs):
    assert [(p.well, p.field) for p in pairs] == [(w, f) for w in ("A24", "L15") for f in range(1, 7)]
    for pair in pairs:
        assert pairing.parse_name(pair.nuclei) == (pair.well, pair.field, 1)
        assert pairing.parse_name(pair.actin) == (pair.well, pair.field, 3)


def test_pairing_ignores_listing_order(tmp_path, pairs, monkeypatch):
    for pair in pairs:
        for path in (pair.nuclei, pair.actin):
            (tmp_path / path.name).symlink_to(path)
    listing = sorted(tmp_path.glob("*.tif"), reverse=True)
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(listing))
    assert [(p.well, p.field, p.nuclei.name, p.actin.name) for p in pairing.pair_channels(tmp_path)] == [
        (p.well, p.field, p.nuclei.name, p.actin.name) for p in pairs
    ]
    # Without one actin file, positional pairing would shift every later pair;
    # pairing by name reports the orphan instead.
    (tmp_path / pairs[2].actin.name).unlink()
    listing.remove(tmp_path / pairs[2].actin.name)
    with pytest.raises(AnalysisError, match=f"{pairs[2].nuclei.name}.*no channel 3"):
        pairing.pair_channels(tmp_path)


def test_loader_facts_from_the_lesson(pairs, first_pair):
    nuclei, actin = first_pair
    assert nuclei.max() == 255
    assert actin.max() == 122
    np.testing.assert_array_equal(nuclei[10:20, 10:20], LESSON_BLOCK)
    for pair in pairs:
        for image in images.load_pair(pair):
            assert image.shape == (512, 512)
            assert image.dtype == np.uint8


def test_mask_polarity_is_foreground_true(pairs):
    import tifffile

    path = data.foreground_path(pairs[0].nuclei)
    raw = tifffile.imread(path)
    mask = images.load_mask(path)
    assert raw.mean() > 0.5 > mask.mean()
    np.testing.assert_array_equal(mask, ~raw.astype(bool))


def test_nuclei_masks_cover_bright_pixels(pairs):
    for pair in pairs:
        nuclei = images.load_image(pair.nuclei)
        mask = images.load_mask(data.foreground_path(pair.nuclei))
        assert 0.01 <= mask.mean() <= 0.15, pair.name
        assert nuclei[mask].mean() > 3 * nuclei[~mask].mean(), pair.name


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BBBC008_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_mirror_copy_is_verified_and_cached(empty_cache):
    entry = data.read_manifest()[0]
    path = data.fetch(entry)
    assert path == empty_cache / entry.kind / entry.file
    assert data.sha256(path) == entry.sha256


def test_mirror_with_wrong_hash_is_refused(tmp_path, empty_cache, monkeypatch):
    entry = data.read_manifest()[0]
    mirror = tmp_path / "mirror"
    (mirror / entry.kind).mkdir(parents=True)
    (mirror / entry.kind / entry.file).write_bytes(b"not the image")
    monkeypatch.setenv("BBBC008_MIRROR", str(mirror))
    with pytest.raises(AnalysisError, match="SHA-256 differs"):
        data.fetch(entry)
    assert not (empty_cache / entry.kind / entry.file).exists()


def test_no_mirror_and_no_network_fails_fast(tmp_path, empty_cache, monkeypatch):
    entry = data.read_manifest()[0]
    # A loopback port with no listener: the download is refused at once.
    unreachable = data.ManifestEntry(**{**entry.__dict__, "url": "http://127.0.0.1:9/BBBC008_v1_images.zip"})
    monkeypatch.setenv("BBBC008_MIRROR", str(tmp_path / "no-mirror"))
    start = time.perf_counter()
    with pytest.raises(AnalysisError, match="cannot download.*BBBC008_MIRROR"):
        data.fetch(unreachable)
    assert time.perf_counter() - start < 30


@pytest.fixture
def archive_server(tmp_path):
    """A loopback HTTP server (ephemeral port) serving a zip of one real image."""
    entry = data.read_manifest()[0]
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "images.zip", "w") as archive:
        archive.write(data.fetch(entry), entry.member)
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
    path = data.fetch(data.ManifestEntry(**{**entry.__dict__, "url": url}))
    assert path == empty_cache / entry.kind / entry.file
    assert data.sha256(path) == entry.sha256
    assert not list(empty_cache.rglob("ignored.txt"))
    wrong = data.ManifestEntry(**{**entry.__dict__, "url": url, "file": "other.tif", "sha256": "0" * 64})
    with pytest.raises(AnalysisError, match="wrong SHA-256"):
        data.fetch(wrong)
    assert not (empty_cache / entry.kind / "other.tif").exists()
