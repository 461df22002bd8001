"""``python -m analysis COMMAND``: the command line (:mod:`analysis.cli.main`)."""

import gc
import sys

from analysis.cli.main import main

if __name__ == "__main__":
    status = main()
    # Everything still alive goes with the process: exit without a last collection of all of it
    # (a third of a second after the libraries a field needs; atexit hooks still run).
    gc.freeze()
    sys.exit(status)
