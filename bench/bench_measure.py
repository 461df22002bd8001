"""Time ``python -m analysis measure``: workers, and a synthetic screen on a scheduler.

1. The 12 BBBC008 fields with a LocalCluster of 1 and of 2 workers, process
   start, cluster start and model loading included: median of ``--repeats``
   runs each, and their ratio.
2. The same on a scheduler with 1 and one with 2 workers that are already
   running and hold the model (:func:`warm_ratio`): the client's process
   is all that each run starts.
3. A synthetic screen of ``--fields`` fields (default 576): the 12 real
   fields flipped and rotated (8 ways), rolled by a shift of each plate's
   own and copied under new plate names into a temporary folder, measured
   through a ``dask scheduler`` and two ``dask worker`` processes that this
   script starts. It reports fields per
   second, each worker's resident memory (peak over the first and the second
   half of the run, to show whether it grows with the screen) and the
   projected time of a 10,000-field screen on N such machines.

   It also times the writing of the run's ``qc.html`` on the whole screen.

    python bench/bench_measure.py [--repeats 1] [--fields 576] [--model FOLDER]
                                  [--features SETS] [--screen-only]

``--model`` measures with another model folder, e.g. a copy of the
project's without ``model.onnx`` to run the network in TensorFlow;
``--features`` passes ``measure`` its feature sets (default: measure's);
``--screen-only`` skips parts 1 and 2.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import tifffile

from analysis.batch import screen
from analysis.io import images, registry

#: Options every timed run gets (``--model``).
COMMON: list[str] = []


def _measure(out: Path, *options: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "analysis", "measure", "--out", str(out), *COMMON, *options],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def _report(runs: dict[int, list[float]], workers_are: str) -> None:
    """Median seconds of each number of workers, and the speed-up of 2 over 1."""
    seconds = {workers: statistics.median(times) for workers, times in runs.items()}
    for workers, times in runs.items():
        print(
            f"12 fields, {workers} {workers_are}: median {seconds[workers]:.1f} s "
            f"(runs: {', '.join(f'{t:.1f}' for t in times)})"
        )
    print(f"speed-up of 2 over 1: {seconds[1] / seconds[2]:.2f}x")


def workers_ratio(repeats: int) -> None:
    """Runs of 1 and 2 workers taken in turn, so that a change in the machine's load hits both."""
    runs = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            for workers in runs:
                runs[workers].append(_measure(Path(tmp) / f"w{workers}-{r}", "--workers", str(workers)))
    _report(runs, "worker(s)")


def warm_ratio(repeats: int) -> None:
    """The 12 fields on running workers that already hold the model, 1 against 2.

    A ``dask scheduler`` with one worker and another with two stay up
    throughout; each is warmed by one run on the fields as they are. Then
    the runs are taken on them in turn, each on the fields turned another
    way (new pixels: nothing a worker predicted before can be recalled).
    What remains fixed is the client's process.
    """
    runs = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as clusters:
        tmp = Path(tmp)
        addresses = {}
        for workers in runs:
            folder = tmp / f"cluster{workers}"
            folder.mkdir()
            addresses[workers] = clusters.enter_context(screen.local_scheduler(folder, workers))[0]
            # The first run: every worker loads the model.
            _measure(tmp / f"warm{workers}", "--scheduler", addresses[workers])
        for r in range(repeats):
            fields = tmp / f"turn{r}"
            fields.mkdir()
            oriented_fields(fields, turn=1 + r % 7, plate=r // 7)  # a new roll once the turns are used
            for workers in runs:
                out = tmp / f"w{workers}-{r}"
                runs[workers].append(
                    _measure(out, "--images", str(fields), "--scheduler", addresses[workers])
                )
    _report(runs, "running worker(s) holding the model")


def oriented_fields(folder: Path, turn: int, plate: int, count: int = 12) -> None:
    """The first ``count`` of the 12 fields turned one of 8 ways (0: as they are), under a new plate.

    Each plate's fields are also rolled (shifted with wrap-around) by their
    own amount, so that no two fields of a screen share their pixels and no
    worker can recall a prediction (:func:`analysis.models.predict.predict_labels`).
    """
    for pair in registry.dataset_pairs()[:count]:
        for channel, path in ((1, pair.nuclei), (3, pair.actin)):
            image = np.rot90(images.load_image(path), turn % 4)
            image = np.fliplr(image) if turn >= 4 else image
            image = np.roll(image, (37 * plate, 53 * plate), axis=(0, 1))
            name = f"SYN{plate:03d}T{turn}_{pair.well}f00d0_slice{pair.field}_channel{channel}.tif"
            tifffile.imwrite(folder / name, np.ascontiguousarray(image))


def synthetic_screen(folder: Path, n_fields: int) -> None:
    """The 12 fields in 8 orientations, under as many plate names as it takes."""
    for made in range(0, n_fields, 12):
        oriented_fields(folder, turn=made // 12 % 8, plate=made // 96, count=min(12, n_fields - made))


def time_qc_page(images: Path, out: Path) -> float:
    """Seconds to write a run's quality-control page again, as ``measure`` writes it at its end."""
    import pandas as pd

    from analysis.batch.per_field import Settings, fields_from_pairs
    from analysis.cli.measure import QC_FEATURE, write_qc_page
    from analysis.io.pairing import pair_channels

    fields = fields_from_pairs(pair_channels(images))
    start = time.perf_counter()
    write_qc_page(
        out,
        pd.DataFrame(columns=["field", "image_number", "reason"]),
        fields,
        Settings.nuclei_stain,
        QC_FEATURE,
    )
    return time.perf_counter() - start


def on_a_scheduler(n_fields: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "screen"
        folder.mkdir()
        synthetic_screen(folder, n_fields)
        with screen.local_scheduler(tmp, workers=2) as (address, workers):
            out = tmp / "out"
            start = time.perf_counter()
            client = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "analysis",
                    "measure",
                    "--images",
                    str(folder),
                    "--scheduler",
                    address,
                    "--out",
                    str(out),
                    *COMMON,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            samples = []  # (fields done, rss of each worker)
            handles = [psutil.Process(w.pid) for w in workers]
            while client.poll() is None:
                done = len(list((out / "Image").glob("*.parquet"))) if (out / "Image").is_dir() else 0
                samples.append((done, [h.memory_info().rss for h in handles]))
                time.sleep(0.5)
            seconds = time.perf_counter() - start
            summary = client.stderr.read().strip()
            if client.returncode:
                raise SystemExit(summary)
            qc_seconds = time_qc_page(folder, out)
    rate = n_fields / seconds
    print(f"{n_fields} fields through a scheduler and 2 workers: {seconds:.0f} s, {rate:.2f} fields/s")
    print(f"  {summary}")
    half = [s for s in samples if s[0] < n_fields / 2], [s for s in samples if s[0] >= n_fields / 2]
    for index in range(2):
        first = max(s[1][index] for s in half[0]) / 2**20
        second = max(s[1][index] for s in half[1]) / 2**20
        print(
            f"  worker {index + 1} peak memory: {first:.0f} MiB (first half of the fields), "
            f"{second:.0f} MiB (second half)"
        )
    per_worker = rate / 2
    for machines in (1, 4, 16):
        hours = 10_000 / (per_worker * 2 * machines) / 3600
        print(f"  projected 10,000 fields on {machines} machine(s) of 2 workers: {hours:.1f} h")
    print(f"  qc.html of the {n_fields} fields written again: {qc_seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--fields", type=int, default=576, help="0: the 12 fields only")
    parser.add_argument("--model", default="project", help="project (default) or a model folder")
    parser.add_argument("--features", help="measure's --features (default: measure's)")
    parser.add_argument("--screen-only", action="store_true", help="only the synthetic screen")
    args = parser.parse_args()
    COMMON.extend(["--model", args.model])
    if args.features:
        COMMON.extend(["--features", args.features])
    if not args.screen_only:
        workers_ratio(args.repeats)
        warm_ratio(args.repeats)
    if args.fields:
        on_a_scheduler(args.fields)


if __name__ == "__main__":
    main()
