"""Processes side by side share the cores: how many threads each computes on.

The renderer's kernels and a screen's local workers compute side by side;
each gets the cores over their number, so that thread pools that start a
thread per core do not fight over them.
"""

from __future__ import annotations

import os

#: Thread-pool sizes of OpenMP, BLAS and TensorFlow, set for each process from the environment.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def thread_share(processes: int) -> int:
    """The threads each of ``processes`` processes side by side computes on: the cores over them.

    Parameters
    ----------
    processes : int
        Processes that compute at the same time.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, (os.cpu_count() or 1) // processes)


def thread_shares(processes: int) -> dict[str, str]:
    """Each of ``processes`` processes side by side gets its share of the cores' threads.

    Parameters
    ----------
    processes : int
        Processes that compute at the same time.

    Returns
    -------
    dict
        Each of :data:`THREAD_VARIABLES` not already set in the environment
        (the caller's choice stays) to :func:`thread_share`.
    """
    threads = str(thread_share(processes))
    return {name: threads for name in THREAD_VARIABLES if name not in os.environ}
