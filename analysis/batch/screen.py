"""Measuring a whole screen on dask.distributed, one Parquet part per field.

Each field is one task (:func:`analysis.batch.per_field.measure_field`), run on a
``LocalCluster`` sized to the machine or on any running dask scheduler. A
local cluster of one worker computes in this process, in a thread beside the
client's (a crash of the process, not merely a failing field, then ends the
run; a rerun resumes it); more workers are processes of their own. The
client writes each finished field's four tables as Parquet parts,
``OUT/<table>/<field>.parquet``, each under a temporary name first, the
``Image`` part last: a field counts as done when its ``Image`` part exists
and carries the field's key (input files' SHA-256, settings, model weights,
the source of every module of this package that computes it, the versions
of the libraries that do), so an interrupted run leaves only complete fields
and a rerun computes only the rest: after an edit of that code, every field
again. ``pandas.read_parquet(OUT / "Nuclei")`` reads
a whole table.

A field that fails is retried once, then listed in ``OUT/failures.csv``
with the reason; the others are written. ``OUT/manifest.csv`` lists every
field of the run, and ``OUT/_SUCCESS`` marks a run in which none failed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from analysis.batch import per_field
from analysis.batch.per_field import OBJECTS, FieldImages, Settings, measure_field
from analysis.errors import AnalysisError, first_line
from analysis.io.output import atomic_path, write_csv
from analysis.io.pairing import ChannelPath
from analysis.io.provenance import package_versions
from analysis.io.registry import sha256
from analysis.io.sources import code_digest
from analysis.methods import get_method
from analysis.site.threads import thread_share, thread_shares

#: The tables, ``Image`` last: its part marks a field as complete.
TABLES = (*OBJECTS, "Image")
KEY = b"analysis.field_key"
"""The ``Image`` part's metadata entry holding its field's :func:`field_key_parts`."""
SUCCESS = "_SUCCESS"
#: Seconds to wait for a scheduler given by address, unless dask's configuration
#: sets ``analysis.connect-timeout`` (e.g. ``DASK_ANALYSIS__CONNECT_TIMEOUT=30s``).
CONNECT_TIMEOUT_S = 10
#: Seconds a local scheduler or worker may take to stop before it is killed: it holds
#: no results (the client writes them) and stops within a second when well.
STOP_TIMEOUT_S = 3
#: dask's statistical profiler samples each worker's stack every 10 ms, for the dashboard:
#: 5 % of a worker's time on a field. The workers started here run without it.
NO_PROFILER = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}


#: The libraries whose code computes a field's tables besides this package's: their versions
#: are part of a field's key.
LIBRARIES = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-image",
    "opencv-python-headless",
    "centrosome",
    "cp-measure",
    "numba",
    "onnxruntime",
    "stardist",
    "tifffile",
)


def _identity(path: Path) -> str:
    """A stain file's SHA-256, and its channel where it is one channel of a multi-channel file."""
    return f"{sha256(path)}:{path.channel}" if isinstance(path, ChannelPath) else sha256(path)


def field_key_parts(images: FieldImages, settings: Settings, weights_sha256: str) -> dict[str, str]:
    """What a field's results depend on, part by part, each as a SHA-256.

    Parameters
    ----------
    images : FieldImages
    settings : Settings
    weights_sha256 : str
        The model's weights (``""`` without a model).

    Returns
    -------
    dict
        ``images`` (the image number and metadata, each stain's name and
        file SHA-256), ``settings``, ``model`` (the weights), ``code`` (the
        source of :mod:`analysis.batch.per_field` and every module of this
        package it imports: :func:`analysis.io.sources.code_digest`) and
        ``libraries`` (the versions of :data:`LIBRARIES`).
    """
    records = {
        "images": [images.image_number, images.plate, images.well, images.site]
        + [[name, _identity(path)] for name, path in images.stains.items()],
        "settings": asdict(settings),
        "model": weights_sha256,
        "code": code_digest(per_field.__name__),
        "libraries": dict(package_versions(LIBRARIES).itertuples(index=False)),
    }
    return {
        name: hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        for name, record in records.items()
    }


def field_key(parts: Mapping[str, str]) -> str:
    """One SHA-256 of a field's :func:`field_key_parts`.

    Parameters
    ----------
    parts : mapping

    Returns
    -------
    str
        64 hex digits.
    """
    return hashlib.sha256(json.dumps(dict(parts), sort_keys=True).encode()).hexdigest()


def part_path(out: Path, table: str, images: FieldImages) -> Path:
    """Where one table of one field is written.

    Parameters
    ----------
    out : Path
    table : str
    images : FieldImages

    Returns
    -------
    Path
    """
    return out / table / f"{images.name}.parquet"


def stored_key_parts(out: Path, images: FieldImages) -> dict[str, str] | None:
    """The key parts a field's complete parts were written with, or None.

    Parameters
    ----------
    out : Path
    images : FieldImages

    Returns
    -------
    dict or None
        :func:`field_key_parts` as written; None where a part is missing or
        carries no key.
    """
    if not all(part_path(out, table, images).is_file() for table in TABLES):
        return None
    metadata = pq.read_schema(part_path(out, "Image", images)).metadata or {}
    try:
        return json.loads(metadata[KEY])
    except (KeyError, ValueError):
        return None


def why_computed(stored: Mapping[str, str] | None, parts: Mapping[str, str]) -> str | None:
    """Why a field is computed again, or None when its stored parts are its results.

    Parameters
    ----------
    stored : mapping or None
        :func:`stored_key_parts`.
    parts : mapping
        :func:`field_key_parts` of this run.

    Returns
    -------
    str or None
        ``"new"`` (no complete parts), else the parts of the key that
        changed (``"code changed"``, ``"settings, model changed"``).
    """
    if stored is None:
        return "new"
    changed = [name for name in parts if stored.get(name) != parts[name]]
    return f"{', '.join(changed)} changed" if changed else None


def write_parts(
    out: Path, images: FieldImages, tables: dict[str, pd.DataFrame], parts: Mapping[str, str]
) -> None:
    """Write a field's tables, each atomically, the keyed ``Image`` part last.

    Parameters
    ----------
    out : Path
    images : FieldImages
    tables : dict
        As :func:`analysis.batch.per_field.measure_field` returns them.
    parts : mapping
        :func:`field_key_parts`, kept in the ``Image`` part's metadata.
    """
    for table in TABLES:
        arrow = pa.Table.from_pandas(tables[table], preserve_index=False)
        if table == "Image":
            key = json.dumps(dict(parts), sort_keys=True).encode()
            arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), KEY: key})
        with atomic_path(part_path(out, table, images)) as tmp:
            pq.write_table(arrow, tmp)


def read_tables(
    out: str | os.PathLike, columns: Mapping[str, Sequence[str] | None] | None = None
) -> dict[str, pd.DataFrame]:
    """The combined tables of a measured screen.

    Parameters
    ----------
    out : str or path-like
        The folder ``measure`` wrote.
    columns : mapping, optional
        Table name to the columns wanted (those the table lacks are left
        out; the keys are always read), or to None for the whole table.
        By default every table, whole.

    Returns
    -------
    dict
        Table name to DataFrame, rows in image then object order.
    """
    out = Path(out)
    tables = {}
    for table in TABLES if columns is None else columns:
        keys = ["ImageNumber", "ObjectNumber"] if table != "Image" else ["ImageNumber"]
        wanted = None
        if columns is not None and columns[table] is not None:
            present = pq.read_schema(next((out / table).glob("*.parquet"))).names
            wanted = [c for c in dict.fromkeys([*keys, *columns[table]]) if c in present]
        frame = pd.read_parquet(out / table, columns=wanted)
        tables[table] = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return tables


@functools.cache
def limit_threads(threads: int) -> None:
    """Limit this worker process's thread pools (OpenCV's, BLAS, OpenMP) to ``threads``.

    A worker computes one field at a time beside the other workers;
    libraries that start a thread per core there fight over the cores (two
    workers on two cores took half as long again per field). Workers of a
    local cluster get their share of the cores, those of a running
    scheduler one thread each. Done once, on a worker's first task.
    """
    import cv2
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(threads)
    threadpool_limits(threads)


@functools.lru_cache(maxsize=2)
def worker_model(spec: str | None, threads: int = 1):
    """The StarDist model of one worker process, loaded on its first task only.

    Its predictions use the worker's ``threads`` (:func:`limit_threads`).
    """
    from analysis.models.stardist_model import load_model

    return load_model(spec, threads=threads)


def measure_task(
    images: FieldImages, settings: Settings, model_spec: str | None, threads: int = 1
) -> dict[str, pd.DataFrame]:
    """One field, measured on a worker.

    Parameters
    ----------
    images : FieldImages
    settings : Settings
    model_spec : str or None
        As for :func:`analysis.models.stardist_model.load_model`.
    threads : int
        The worker's threads (:func:`limit_threads`).

    Returns
    -------
    dict
        :func:`analysis.batch.per_field.measure_field`'s tables.
    """
    limit_threads(threads)
    model = worker_model(model_spec, threads) if get_method(settings.method).needs_model else None
    return measure_field(images, settings, model).tables


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done, then act on them as usual.

    A ``LocalCluster`` interrupted while it starts is referred to by nothing
    that could close it; it then fails at exit with a traceback. Held, the
    interrupt comes once the cluster is up and can be closed. Outside the
    main thread, where no handler can be set, the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    numbers = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in numbers}
    held = []
    for number in numbers:
        signal.signal(number, lambda number, _frame: held.append(number))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if held:
        handler = previous[held[0]]
        if callable(handler):
            handler(held[0], None)
        elif handler == signal.SIG_DFL:
            signal.raise_signal(held[0])


def worker_environment(workers: int) -> dict:
    """The variables a local cluster's nanny sets for its workers: their share of the cores, no malloc trim.

    dask sets ``MALLOC_TRIM_THRESHOLD_`` for every worker it spawns, so that
    freed memory goes back to the system at once. Set at all, it also stops
    glibc from raising its threshold for mapping large blocks, so every
    image-sized temporary array is mapped and zeroed afresh: a field takes
    1.6 times as long (``bench/RESULTS.md``). Without it glibc keeps freed
    blocks for reuse; a worker's memory stays flat over a screen. dask's
    one-thread BLAS and OpenMP become each worker's share of the cores, as
    the renderer's kernels share them (:func:`analysis.site.threads.thread_shares`).

    Parameters
    ----------
    workers : int
        The cluster's workers.

    Returns
    -------
    dict
        ``distributed.nanny.pre-spawn-environ``.
    """
    import dask

    environ = dask.config.get("distributed.nanny.pre-spawn-environ", {})
    environ = {name: value for name, value in environ.items() if name != "MALLOC_TRIM_THRESHOLD_"}
    return environ | thread_shares(workers)


@contextlib.contextmanager
def _client(workers: int | None, scheduler: str | None) -> Iterator:
    """A dask client on a new LocalCluster or on the scheduler at ``scheduler``; both closed on leaving."""
    import dask
    from dask.distributed import Client, LocalCluster

    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with contextlib.ExitStack() as opened:
        if scheduler:
            try:
                timeout = dask.config.get("analysis.connect-timeout", f"{CONNECT_TIMEOUT_S}s")
                client = opened.enter_context(Client(scheduler, timeout=timeout))
            except (OSError, TimeoutError, ValueError) as error:
                raise AnalysisError(
                    scheduler, f"cannot reach the dask scheduler ({first_line(error)})"
                ) from None
        else:
            # A field is retried once; a worker lost twice under a task fails it too. The workers
            # keep glibc's own memory thresholds (see worker_environment). One worker computes in
            # this process, a thread beside the client's: nothing to start, import or send again.
            count = workers or os.cpu_count() or 1
            settings = {
                "distributed.scheduler.allowed-failures": 1,
                "distributed.nanny.pre-spawn-environ": worker_environment(count),
                "distributed.worker.profile.enabled": False,  # see NO_PROFILER
            }
            with _interrupts_held(), dask.config.set(settings):
                cluster = opened.enter_context(
                    LocalCluster(
                        n_workers=count,
                        threads_per_worker=1,
                        processes=count > 1,
                        dashboard_address=":0",  # any free port: never a clash with another run
                        silence_logs=logging.CRITICAL,
                    )
                )
                client = opened.enter_context(Client(cluster))
        yield client


@contextlib.contextmanager
def local_scheduler(folder: str | os.PathLike, workers: int = 2) -> Iterator[tuple[str, list]]:
    """A ``dask scheduler`` and ``dask worker`` processes on this machine, as a cluster runs them.

    The scheduler listens on an ephemeral port of 127.0.0.1; each worker
    has one thread and no nanny, so its process is the one that computes.
    Everything is stopped on leaving the context (killed if it takes
    longer than :data:`STOP_TIMEOUT_S`). For trying
    ``measure --scheduler`` on one machine, and for the tests and
    benchmarks that do.

    Parameters
    ----------
    folder : str or path-like
        A scratch folder: the scheduler file and the workers' spill space.
    workers : int
        Number of worker processes.

    Yields
    ------
    address : str
        The scheduler's address, e.g. ``tcp://127.0.0.1:40211``.
    processes : list of subprocess.Popen
        The worker processes.

    Raises
    ------
    AnalysisError
        If the scheduler or the workers are not up within a minute.
    """
    from dask.distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    folder = Path(folder)
    info = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", info],
        **quiet,
    )
    started = []
    try:
        deadline = time.monotonic() + 60
        while not (info.is_file() and info.stat().st_size):
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise AnalysisError(info, "the dask scheduler did not start")
            time.sleep(0.1)
        address = json.loads(info.read_text())["address"]
        for _ in range(workers):
            started.append(
                subprocess.Popen(
                    [dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
                    + ["--host", "127.0.0.1"],
                    env=os.environ | NO_PROFILER,
                    **quiet,
                )
            )
        with Client(address, timeout="30s") as client:
            try:
                client.wait_for_workers(workers, timeout=60)
            except TimeoutError:
                raise AnalysisError(address, f"{workers} dask workers did not start") from None
        yield address, started
    finally:
        # As Ctrl-C (after SIGTERM a worker could linger for seconds), the workers before
        # their scheduler: a worker whose scheduler has gone waits for it to come back.
        for group in (started, [scheduler]):
            for process in group:
                process.send_signal(signal.SIGINT)
            for process in group:
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:  # still closing down: stop it for good
                    process.kill()
                    process.wait()


def run_screen(
    fields: Sequence[FieldImages],
    settings: Settings,
    out: str | os.PathLike,
    model_spec: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
) -> dict:
    """Measure every field not already done; write parts, manifest and failures.

    Parameters
    ----------
    fields : sequence of FieldImages
        The screen, in ``ImageNumber`` order.
    settings : Settings
    out : str or path-like
        Output folder.
    model_spec : str, optional
        As for :func:`analysis.models.stardist_model.load_model`.
    workers : int, optional
        Workers of the LocalCluster (default: one per core); ignored with
        ``scheduler``.
    scheduler : str, optional
        Address of a running dask scheduler, e.g. ``tcp://host:8786``.
    force : bool
        Recompute fields whose parts are up to date.

    Returns
    -------
    dict
        ``fields``, ``computed``, ``reused``, ``failed`` (counts),
        ``objects`` (per table, over the whole screen), ``seconds``,
        ``fields_per_second`` (computed fields), ``failures`` (DataFrame)
        and ``why_computed`` (a Counter of :func:`why_computed`'s reasons, and
        ``"forced"``, over the fields computed or tried).

    Raises
    ------
    AnalysisError
        If the model cannot be loaded or the scheduler cannot be reached.
    """
    start = time.perf_counter()
    out = Path(out)
    weights = ""
    if get_method(settings.method).needs_model:
        from analysis.models.stardist_model import locate_model

        weights = locate_model(model_spec)[2]  # a missing or altered model fails here, before any task
    parts = {images.name: field_key_parts(images, settings, weights) for images in fields}
    reasons = {
        images.name: why_computed(stored_key_parts(out, images), parts[images.name]) for images in fields
    }
    if force:
        reasons = {name: reason or "forced" for name, reason in reasons.items()}
    todo = [images for images in fields if reasons[images.name]]
    (out / SUCCESS).unlink(missing_ok=True)
    names = {images.name for images in fields}
    for table in TABLES:  # parts of fields that are not in this screen would mix into its tables
        for part in (out / table).glob("*.parquet"):  # none where the folder is missing
            if part.stem not in names:
                part.unlink()
    status = {images.name: "reused" for images in fields}
    failures = []
    if todo:
        threads = 1 if scheduler else thread_share(workers or os.cpu_count() or 1)
        with _client(workers, scheduler) as client:
            futures = {
                client.submit(
                    measure_task, images, settings, model_spec, threads, retries=1, pure=False
                ): images
                for images in todo
            }
            from dask.distributed import as_completed

            for future in tqdm(
                as_completed(futures), total=len(futures), desc="measure", unit="field", disable=None
            ):
                # Let go of each field's future once it is read: while the client holds a future,
                # its worker keeps the field's tables in memory, and a screen's would pile up.
                images = futures.pop(future)
                try:
                    tables = future.result()
                except Exception as error:  # the field's own problem, after its retry
                    failures.append(
                        {
                            "field": images.name,
                            "image_number": images.image_number,
                            "reason": first_line(error),
                        }
                    )
                    status[images.name] = "failed"
                    for table in TABLES:
                        part_path(out, table, images).unlink(missing_ok=True)
                    continue
                write_parts(out, images, tables, parts[images.name])
                status[images.name] = "computed"
    manifest = pd.DataFrame(
        [
            {
                "field": images.name,
                "image_number": images.image_number,
                "key": field_key(parts[images.name]),
                "status": status[images.name],
            }
            for images in fields
        ]
    )
    write_csv(manifest, out / "manifest.csv")
    failed = pd.DataFrame(failures, columns=["field", "image_number", "reason"]).sort_values("image_number")
    if failures:
        write_csv(failed, out / "failures.csv")
    else:
        (out / "failures.csv").unlink(missing_ok=True)
        (out / SUCCESS).write_text("")
    done = [images for images in fields if status[images.name] != "failed"]
    objects = {
        table: int(sum(pq.read_metadata(part_path(out, table, images)).num_rows for images in done))
        for table in OBJECTS
    }
    seconds = time.perf_counter() - start
    computed = sum(value == "computed" for value in status.values())
    return {
        "fields": len(fields),
        "computed": computed,
        "reused": sum(value == "reused" for value in status.values()),
        "failed": len(failures),
        "objects": objects,
        "seconds": seconds,
        "fields_per_second": computed / seconds if seconds else 0.0,
        "failures": failed,
        "why_computed": Counter(reasons[images.name] for images in todo),
    }
