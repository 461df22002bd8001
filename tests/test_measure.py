"""The measure command: its runs on dask.distributed (real processes on localhost, marked slow)
and its option checks, in-process.
"""

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_clean_failure, interrupt_cli, run_cli, run_here

from analysis.batch import per_field, screen
from analysis.io import registry

CELLPROFILER = Path(__file__).parent / "data" / "cellprofiler"
#: The features that miss the target against CellProfiler 4.2.8, each for a known reason (README).
CELLPROFILER_QUIRKS = {
    "AreaShape_Orientation": "an axis at +90 and -90 degrees is one axis; round objects have none",
    "RadialDistribution_": "an object's centre among tied points: SciPy's unstable sort in CellProfiler",
    "Correlation_RWC_": "CellProfiler ranks the pixels of all objects together, not of each object",
    "Correlation_Costes_": "CellProfiler finds one threshold for all objects, not one per object",
}
EXAMPLE_HUMAN_PATTERN = r"^(?P<plate>.+)_(?P<well>[A-P]\d{2})f00d(?P<channel>\d)\.tif$"


def measured(out: Path, *options) -> subprocess.CompletedProcess:
    result = run_cli("measure", "--out", out, *options)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().startswith("measured "), result.stderr
    return result


def assert_same_tables(first: Path, second: Path) -> None:
    one, two = screen.read_tables(first), screen.read_tables(second)
    for table in screen.TABLES:
        pd.testing.assert_frame_equal(one[table], two[table], check_exact=True)


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """The small feature set, on one worker."""
    out = tmp_path_factory.mktemp("one") / "screen"
    measured(out, "--workers", "1", "--features", "basic")
    return out


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    """The default: CellProfiler's feature families and the image quality measures."""
    out = tmp_path_factory.mktemp("profiled") / "screen"
    measured(out, "--workers", "2")
    return out


@pytest.mark.slow
def test_the_tables_hold_every_field_and_link_the_objects(one_worker):
    tables = screen.read_tables(one_worker)
    image = tables["Image"]
    assert image.ImageNumber.tolist() == list(range(1, 13))
    assert image.Metadata_Well.tolist() == ["A24"] * 6 + ["L15"] * 6
    assert image.Metadata_Site.tolist() == [1, 2, 3, 4, 5, 6] * 2
    for name in per_field.OBJECTS:
        counts = tables[name].groupby("ImageNumber").size()
        assert counts.reindex(image.ImageNumber, fill_value=0).tolist() == image[f"Count_{name}"].tolist()
    # One cell per nucleus, with the same number; cytoplasm points to both.
    assert (tables["Cells"].Parent_Nuclei == tables["Cells"].ObjectNumber).all()
    assert image.Count_Cells.equals(image.Count_Nuclei)
    cytoplasm = tables["Cytoplasm"]
    assert (cytoplasm.Parent_Cells == cytoplasm.Parent_Nuclei).all()
    # A nucleus lies inside its cell: the cell is at least as large.
    merged = tables["Nuclei"].merge(
        tables["Cells"], on=["ImageNumber", "ObjectNumber"], suffixes=("_n", "_c")
    )
    assert (merged.AreaShape_Area_c >= merged.AreaShape_Area_n).all()
    for stain in ("DNA", "Actin"):
        for feature in ("MeanIntensity", "IntegratedIntensity", "StdIntensity", "MaxIntensity"):
            assert f"Intensity_{feature}_{stain}" in tables["Nuclei"]
    assert (one_worker / screen.SUCCESS).is_file()
    assert not (one_worker / "failures.csv").exists()
    assert pd.read_csv(one_worker / "manifest.csv").status.eq("computed").all()


@pytest.mark.slow
def test_count_writes_the_nuclei_table_measure_writes(one_worker, tmp_path):
    out = tmp_path / "counts.csv"
    assert run_cli("count", "--method", "stardist-li", "--out", out).returncode == 0
    counts = pd.read_csv(out)
    tables = screen.read_tables(one_worker)
    image = tables["Image"]
    assert image.Count_Nuclei.tolist() == counts.n_nuclei.tolist()
    assert image.Math_NucleusDiameter.round(2).tolist() == counts.nucleus_diameter.tolist()
    # One per-field function: the same nuclei, columns and values, through CSV and Parquet.
    objects = pd.read_csv(tmp_path / "counts_objects.csv")
    pd.testing.assert_frame_equal(objects, tables["Nuclei"], check_dtype=False, rtol=1e-12)


@pytest.mark.slow
def test_two_workers_give_the_same_tables(one_worker, tmp_path):
    out = tmp_path / "two"
    measured(out, "--workers", "2", "--features", "basic")
    assert_same_tables(one_worker, out)


@pytest.fixture
def scheduler_and_workers(tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes on ephemeral ports."""
    with screen.local_scheduler(tmp_path, workers=2) as (address, _):
        yield address


@pytest.mark.slow
def test_a_running_scheduler_gives_the_same_tables(one_worker, scheduler_and_workers, tmp_path):
    out = tmp_path / "remote"
    measured(out, "--scheduler", scheduler_and_workers, "--features", "basic")
    assert_same_tables(one_worker, out)


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
def test_an_interrupted_run_resumes_where_it_stopped(pairs, tmp_path):
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

    result = measured(out, *images, "--workers", "2")
    assert f"({6 - len(done)} computed, {len(done)} reused, 0 failed)" in result.stderr
    resumed = screen.read_tables(out)
    again = measured(out, *images, "--workers", "2")
    assert "(0 computed, 6 reused, 0 failed)" in again.stderr
    forced = measured(out, *images, "--workers", "2", "--force")
    assert "(6 computed, 0 reused, 0 failed)" in forced.stderr
    whole = screen.read_tables(out)  # every field computed in one run
    for table in screen.TABLES:
        pd.testing.assert_frame_equal(resumed[table], whole[table], check_exact=True)


@pytest.mark.slow
def test_a_corrupt_field_is_reported_and_the_others_are_written(pairs, tmp_path):
    folder = own_copy(pairs[:5], tmp_path / "in")  # A24 fields 1 to 5; the fourth breaks
    broken = folder / pairs[3].actin.name.replace("AS_09125", "OWN")
    broken.write_bytes(broken.read_bytes()[:5000])
    out = tmp_path / "screen"
    result = run_cli("measure", "--images", folder, "--workers", "2", "--features", "basic", "--out", out)
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
# pycytominer sets a pandas option that pandas 3 deprecates; that is its own affair.
def test_the_default_tables_hold_cellprofilers_families(profiled, one_worker):
    tables, basic = screen.read_tables(profiled), screen.read_tables(one_worker)
    families = ("AreaShape", "Intensity", "Texture", "Granularity", "RadialDistribution", "Correlation")
    for name in per_field.OBJECTS:
        columns = tables[name].columns
        counts = {family: sum(c.startswith(f"{family}_") for c in columns) for family in families}
        assert counts == {
            "AreaShape": 110,
            "Intensity": 30,  # and 6 Location_ columns per stain
            "Texture": 104,
            "Granularity": 32,
            "RadialDistribution": 24,
            "Correlation": 11,
        }, name
        # The same objects as the small set's run: numbers, centres and areas.
        shared = ["ImageNumber", "ObjectNumber", "Location_Center_X", "Location_Center_Y", "AreaShape_Area"]
        pd.testing.assert_frame_equal(tables[name][shared], basic[name][shared], check_dtype=False)
    quality = [c for c in tables["Image"] if c.startswith("ImageQuality_")]
    assert len(quality) == 2 * 12
    assert tables["Image"][quality].notna().all().all()
    assert (profiled / "qc.html").is_file()


@pytest.mark.slow
def test_the_features_agree_with_cellprofiler_on_the_same_objects(profiled):
    from analysis.steps.agreement import feature_agreement

    tables = screen.read_tables(profiled)
    summary, missed = {}, set()
    for name in per_field.OBJECTS:
        reference = pd.read_csv(CELLPROFILER / f"{name}.csv.gz")
        assert len(reference) > 400  # every fourth object of the 12 fields
        agreement = feature_agreement(tables[name], reference)
        assert len(agreement) == 322  # every family's features, on both sides
        missed |= set(agreement.feature[~agreement.meets])
        summary[name] = agreement.meets.mean()
        # NaN on one side only: Costes where no background subset exists (cp_measure says
        # undefined, CellProfiler writes a number) and texture of objects too thin for a pixel
        # pair 3 apart (CellProfiler writes 0).
        mismatched = agreement.feature[agreement.nan_mismatch > 0]
        assert mismatched.str.startswith(("Correlation_Costes_", "Texture_")).all(), list(mismatched)
    unexplained = sorted(f for f in missed if not f.startswith(tuple(CELLPROFILER_QUIRKS)))
    assert unexplained == []
    assert all(any(f.startswith(quirk) for f in missed) for quirk in CELLPROFILER_QUIRKS)
    print("share of features with r >= 0.99 and median difference <= 1 %:", summary)
    assert min(summary.values()) >= 0.9
    image = feature_agreement(
        tables["Image"], pd.read_csv(CELLPROFILER / "Image.csv.gz"), keys=["ImageNumber"]
    )
    assert len(image) == 24
    assert image.meets.all(), image[~image.meets]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The 'mode.copy_on_write' option is deprecated")
# scikit-learn's scaler divides a feature without spread over the wells by 0, then keeps it at 0.
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
def test_pycytominer_makes_well_profiles_of_the_output(profiled):
    from pycytominer import aggregate, feature_select, normalize

    tables = screen.read_tables(profiled)
    cells = per_field.single_cell_table(tables)
    # A cell that is all nucleus has no cytoplasm: NaN in every Cytoplasm column.
    no_cytoplasm = ~cells.set_index(["ImageNumber", "ObjectNumber"]).index.isin(
        tables["Cytoplasm"].set_index(["ImageNumber", "ObjectNumber"]).index
    )
    cytoplasm = [c for c in cells if c.startswith("Cytoplasm_")]
    assert cells.loc[no_cytoplasm, cytoplasm].isna().all().all()
    # Where an object sits is not a phenotype: profiles leave locations out.
    features = [c for c in cells if c.startswith(per_field.OBJECTS) and "Location_" not in c]
    wells = aggregate(
        cells, strata=["Metadata_Plate", "Metadata_Well"], features=features, operation="median"
    )
    assert wells.Metadata_Well.tolist() == ["A24", "L15"]
    # The only NaN left in a well's median: the normalised moments of order 0 and 1,
    # undefined for every object (skimage and CellProfiler give NaN).
    undefined = {
        f"{name}_AreaShape_NormalizedMoment_{order}"
        for name in per_field.OBJECTS
        for order in ("0_0", "0_1", "1_0")
    }
    assert set(wells.columns[wells.isna().any()]) == undefined
    normalised = normalize(wells, features=features, meta_features="infer", method="standardize")
    assert normalised.shape == wells.shape
    assert set(normalised.columns[normalised.isna().any()]) == undefined
    assert normalised.Cells_AreaShape_Area.abs().round(6).tolist() == [1.0, 1.0]
    # Selection on the 12 fields' profiles: with two wells every pair of features
    # correlates perfectly, and pycytominer would go through some 400,000 such pairs.
    strata = ["Metadata_Plate", "Metadata_Well", "Metadata_Site"]
    fields = aggregate(cells, strata=strata, features=features, operation="median")
    fields = normalize(fields, features=features, meta_features="infer", method="standardize")
    operations = ["drop_na_columns", "variance_threshold", "correlation_threshold", "blocklist"]
    selected = feature_select(fields, features=features, operation=operations)
    kept = [c for c in selected if c in features]
    assert 0 < len(kept) < len(features)  # features that vary together over the fields go
    assert not set(kept) & undefined
    assert not selected[kept].isna().any().any()
    assert len(selected) == 12


@pytest.mark.slow
def test_example_human_gets_the_ph3_stain_and_a_mitotic_index(tmp_path):
    folder = registry.mirror_dir().parent / "cellprofiler_examplehuman" / "images"
    out = tmp_path / "screen"
    options = ["--images", folder, "--pattern", EXAMPLE_HUMAN_PATTERN, "--nuclei-channel", "0"]
    options += ["--actin-channel", "2", "--stain", "PH3=1", "--mitotic-stain", "PH3", "--workers", "1"]
    options += ["--features", "Intensity"]  # what the mitotic index needs
    result = measured(out, *options)
    assert result.stderr.startswith("measured 1 field (1 computed, 0 reused, 0 failed): ")
    tables = screen.read_tables(out)
    cells = per_field.single_cell_table(tables)
    assert "Nuclei_Intensity_MeanIntensity_PH3" in cells
    image = tables["Image"].iloc[0]
    assert image.FileName_PH3.endswith("f00d1.tif")
    flagged = tables["Nuclei"]["Classify_Mitotic_PH3"]
    assert image.Count_MitoticNuclei_PH3 == flagged.sum() > 0
    # Mitosis is a small share of an asynchronously growing population.
    assert 0 < image.Math_MitoticIndex_PH3 < 0.15


@pytest.mark.slow
def test_an_unreachable_scheduler(tmp_path):
    out = tmp_path / "screen"
    timeout = {"DASK_ANALYSIS__CONNECT_TIMEOUT": "1s"}  # dask's configuration, read from the environment
    result = run_cli("measure", "--scheduler", "tcp://127.0.0.1:9", "--out", out, env=timeout)
    assert_clean_failure(result, "tcp://127.0.0.1:9", out)
    assert "cannot reach the dask scheduler" in result.stderr


def test_an_output_that_is_a_file(tmp_path):
    out = tmp_path / "screen"
    out.write_text("a file")
    result = run_here("measure", "--out", out)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: {out}: is a file, not a folder"]
    assert out.read_text() == "a file"


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
