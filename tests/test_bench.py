"""The benchmark scripts start: each answers --help with its usage and runs nothing."""

import runpy
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("script", sorted(path.name for path in BENCH.glob("bench_*.py")))
def test_benchmark_answers_help(script, monkeypatch, capsys):
    # Run as ``python bench/SCRIPT --help`` runs it, in this process: its folder first on the path.
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setattr(sys, "argv", [str(BENCH / script), "--help"])
    with pytest.raises(SystemExit) as end:
        runpy.run_path(str(BENCH / script), run_name="__main__")
    assert end.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")
