"""A field's stored parts are reused only for the same inputs, settings, model and code."""

import shutil
import subprocess
import sys

import pytest
from conftest import measured
from test_measure_stops import own_copy

from analysis.batch import per_field, screen
from analysis.io import registry, sources

PACKAGE = registry.PROJECT_ROOT / "analysis"


def test_the_code_digest_follows_the_modules_a_module_imports(tmp_path):
    closure = sources.module_closure(per_field.__name__)
    assert {"analysis.steps.features", "analysis.steps.profiling", "analysis.steps.shape"} <= closure
    assert "analysis.cli.measure" not in closure  # the command line computes nothing of a field
    assert "analysis.site.render" not in closure


def test_a_changed_part_of_the_key_is_named():
    parts = {"images": "a", "settings": "b", "model": "c", "code": "d", "libraries": "e"}
    assert screen.why_computed(None, parts) == "new"
    assert screen.why_computed(parts, parts) is None
    assert screen.why_computed(parts | {"code": "x", "model": "y"}, parts) == "model, code changed"
    assert screen.field_key(parts) != screen.field_key(parts | {"code": "x"})


@pytest.mark.slow
def test_an_edited_copy_of_the_package_computes_every_field_again(pairs, tmp_path):
    images = ["--images", own_copy(pairs[:2], tmp_path / "in"), "--method", "otsu", "--features", "basic"]
    out = tmp_path / "screen"
    options = [*images, "--workers", "1", "--out", out]
    first = measured(out, *options).stderr
    assert "(2 computed, 0 reused, 0 failed)" in first
    assert "computed: 2 new" in first
    assert "computed: 2 forced" in measured(out, *options, "--force").stderr
    assert "(0 computed, 2 reused, 0 failed)" in measured(out, *options).stderr

    def run_copy(edit: str) -> subprocess.CompletedProcess:
        copy = tmp_path / f"copy-{len(edit)}"
        shutil.copytree(PACKAGE, copy / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
        (copy / "data").mkdir()
        shutil.copy(registry.MANIFEST, copy / "data")  # every image read is checked against it
        with open(copy / "analysis" / "steps" / "features.py", "a") as module:
            module.write(edit)
        command = [sys.executable, "-m", "analysis", "measure", *map(str, options)]
        return subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=600)

    unchanged = run_copy("")  # the same source elsewhere: the same key
    assert "(0 computed, 2 reused, 0 failed)" in unchanged.stderr, unchanged.stderr
    edited = run_copy("\n# one line more\n")
    assert edited.returncode == 0, edited.stderr
    assert "(2 computed, 0 reused, 0 failed)" in edited.stderr
    assert "computed: 2 code changed" in edited.stderr
