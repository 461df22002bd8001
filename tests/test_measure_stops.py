"""measure when a run stops early or cannot start: interrupts and resuming, a corrupt
field, an unreachable scheduler, a worker that does not stop, bad options.

The runs on dask.distributed are real processes on localhost (marked slow);
the option checks run in-process.
"""

import os
import shutil
import signal
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_clean_failure, interrupt_cli, measured, run_cli, run_here

from analysis.batch import screen


@pytest.mark.slow
def test_a_worker_that_does_not_stop_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(screen, "STOP_TIMEOUT_S", 1)
    rescued = threading.Event()

    def rescue(pid):
        """Without the kill the stop would wait for ever: the test then kills the worker itself."""
        rescued.set()
        os.kill(pid, signal.SIGKILL)

    with screen.local_scheduler(tmp_path, workers=1) as (_, workers):
        os.kill(workers[0].pid, signal.SIGSTOP)  # held: the request to stop stays pending
        watchdog = threading.Timer(30, rescue, (workers[0].pid,))
        watchdog.start()
    watchdog.cancel()
    assert workers[0].returncode == -signal.SIGKILL
    assert not rescued.is_set()


class Stop(Exception):
    """What the test's own SIGTERM handler raises."""


def test_an_interrupt_while_the_cluster_starts_comes_once_it_can_be_closed(monkeypatch):
    import dask.distributed

    events = []

    class Cluster:
        """Stands in for LocalCluster; the interrupt comes while it starts."""

        def __init__(self, **_options):
            signal.raise_signal(signal.SIGTERM)
            events.append("cluster started")

        def __enter__(self):
            return self

        def __exit__(self, *_exception):
            events.append("cluster closed")

    class Client(Cluster):
        def __init__(self, _cluster):
            events.append("client started")

        def __exit__(self, *_exception):
            events.append("client closed")

    def stop(_number, _frame):
        raise Stop

    monkeypatch.setattr(dask.distributed, "LocalCluster", Cluster)
    monkeypatch.setattr(dask.distributed, "Client", Client)
    handler = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stop), screen._client(2, None):
            events.append("work")
        after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, handler)
    assert events == ["cluster started", "client started", "client closed", "cluster closed"]
    assert after is stop  # the handler before the cluster started, back in place


def own_copy(pairs, folder: Path) -> Path:
    """The fields' files under names the manifest does not know, in a folder of their own."""
    folder.mkdir()
    for pair in pairs:
        for path in (pair.nuclei, pair.actin):
            shutil.copy(path, folder / path.name.replace("AS_09125", "OWN"))
    return folder


@pytest.mark.slow
def test_an_interrupted_run_resumes_where_it_stopped(pairs, running_scheduler, tmp_path, network_runs):
    images = ["--images", own_copy(pairs[:6], tmp_path / "in"), "--features", "basic"]  # well A24
    out = tmp_path / "resumed"
    parts = out / "Image"

    def complete():  # a part being written has a hidden temporary name
        return sorted(p.name for p in parts.glob("*.parquet") if not p.name.startswith("."))

    result = interrupt_cli(
        "measure", *images, "--workers", "1", "--out", out, ready=lambda: len(complete()) >= 2
    )
    assert result.returncode == 143, result.stderr
    done = complete()
    assert 2 <= len(done) < 6
    for table in screen.TABLES:  # only complete fields: every Image part has its three others
        assert {p.name for p in (out / table).glob("*.parquet")} >= set(done)
    assert not list(out.rglob(".*"))  # no temporary file left
    assert not (out / screen.SUCCESS).exists()

    cluster = ["--scheduler", running_scheduler]  # resumed on another cluster: the fields' keys hold
    result = measured(out, *images, *cluster)
    assert f"({6 - len(done)} computed, {len(done)} reused, 0 failed)" in result.stderr
    resumed = screen.read_tables(out)
    again = measured(out, *images, *cluster)
    assert "(0 computed, 6 reused, 0 failed)" in again.stderr
    forced = measured(out, *images, *cluster, "--force")
    assert "(6 computed, 0 reused, 0 failed)" in forced.stderr
    whole = screen.read_tables(out)  # every field computed in one run
    for table in screen.TABLES:
        pd.testing.assert_frame_equal(resumed[table], whole[table], check_exact=True)


@pytest.mark.slow
def test_a_corrupt_field_is_reported_and_the_others_are_written(pairs, running_scheduler, tmp_path):
    folder = own_copy(pairs[:5], tmp_path / "in")  # A24 fields 1 to 5; the fourth breaks
    broken = folder / pairs[3].actin.name.replace("AS_09125", "OWN")
    broken.write_bytes(broken.read_bytes()[:5000])
    out = tmp_path / "screen"
    options = ["--images", folder, "--scheduler", running_scheduler, "--features", "basic"]
    result = run_here("measure", *options, "--out", out)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "failures.csv: 1 of 5 fields" in lines[0]
    failures = pd.read_csv(out / "failures.csv")
    assert failures.field.tolist() == ["OWN_050116000001_A24_s4"]
    assert broken.name in failures.reason.item()
    tables = screen.read_tables(out)
    assert tables["Image"].ImageNumber.tolist() == [1, 2, 3, 5]
    assert not (out / screen.SUCCESS).exists()
    assert pd.read_csv(out / "manifest.csv").status.value_counts().to_dict() == {"computed": 4, "failed": 1}
    # The quality-control page lists the failure with its reason.
    page = (out / "qc.html").read_text()
    assert "OWN_050116000001_A24_s4" in page
    assert broken.name in page


@pytest.mark.slow
def test_an_unreachable_scheduler(tmp_path):
    out = tmp_path / "screen"
    timeout = {"DASK_ANALYSIS__CONNECT_TIMEOUT": "1s"}  # dask's configuration, read from the environment
    result = run_cli("measure", "--scheduler", "tcp://127.0.0.1:9", "--out", out, env=timeout)
    assert_clean_failure(result, "tcp://127.0.0.1:9", out)
    assert "cannot reach the dask scheduler" in result.stderr


@pytest.mark.parametrize(
    ("options", "culprit"),
    [
        (["--mitotic-stain", "PH3"], "unknown stain 'PH3'; stains: DNA, Actin"),
        (["--stain", "PH3"], "'PH3' is not NAME=CHANNEL"),
        (["--stain", "PH3=1"], "further stains apply to a folder given with --images"),
        (["--nuclei-stain", "Actin"], "stain names must differ"),
    ],
)
def test_bad_stain_options(tmp_path, options, culprit):
    out = tmp_path / "screen"
    result = run_here("measure", *options, "--out", out)
    assert_clean_failure(result, culprit, out)
