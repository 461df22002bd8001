"""Files kept under the key of their inputs: one entry per name, each whole or absent."""

import hashlib

from analysis.site import keyed


def test_an_entry_is_found_by_its_name_and_key(tmp_path):
    path = keyed.keep(tmp_path, "page", "ab" * 32, ".html", b"<p>made</p>")
    assert keyed.find(tmp_path, "page", "ab" * 32, ".html") == path
    assert path.read_bytes() == b"<p>made</p>"
    assert keyed.find(tmp_path, "page", "cd" * 32, ".html") is None
    assert keyed.find(tmp_path, "page", "ab" * 32, ".png") is None
    assert keyed.find(tmp_path / "elsewhere", "page", "ab" * 32, ".html") is None
    copy = tmp_path / "out" / "page.html"
    copy.parent.mkdir()
    assert keyed.restore(tmp_path, "page", "ab" * 32, ".html", copy)
    assert copy.read_bytes() == b"<p>made</p>"
    assert not keyed.restore(tmp_path, "page", "cd" * 32, ".html", tmp_path / "out" / "other.html")
    assert not (tmp_path / "out" / "other.html").exists()


def test_a_new_entry_replaces_the_names_older_ones_and_no_other(tmp_path):
    keyed.keep(tmp_path, "page", "ab" * 32, ".html", b"old")
    keyed.keep(tmp_path, "page-two", "ab" * 32, ".html", b"another page")
    keyed.keep(tmp_path, "page", "ab" * 32, ".png", b"its screenshot")
    keyed.keep(tmp_path, "page", "cd" * 32, ".html", b"new")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"page-{'ab' * 8}.png", f"page-two-{'ab' * 8}.html", f"page-{'cd' * 8}.html"]
    )
    assert keyed.find(tmp_path, "page", "ab" * 32, ".html") is None


def test_files_count_by_name_and_content(tmp_path):
    def key(*paths):
        digest = hashlib.sha256()
        keyed.digest_files(digest, list(paths))
        return digest.hexdigest()

    (tmp_path / "a").write_text("one")
    (tmp_path / "b").write_text("one")
    first = key(tmp_path / "a")
    assert key(tmp_path / "a") == first
    assert key(tmp_path / "b") != first  # another name
    (tmp_path / "a").write_text("two")
    assert key(tmp_path / "a") != first
    assert key(tmp_path / "missing") != key(tmp_path / "a")
