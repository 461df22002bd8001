"""The one exception the command line turns into a one-line message."""

from __future__ import annotations

from os import PathLike


class AnalysisError(Exception):
    """A problem with an input that a user can fix.

    Parameters
    ----------
    source : str or path-like
        The file, folder or option the problem is about.
    problem : str
        What is wrong, in a few words.
    """

    def __init__(self, source: str | PathLike, problem: str):
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")

    def __reduce__(self):
        # Raised on a cluster's worker, it travels back to the client pickled.
        return type(self), (self.source, self.problem)


def first_line(error: BaseException) -> str:
    """An exception's message in one line (its type's name when it has none).

    Parameters
    ----------
    error : BaseException

    Returns
    -------
    str
    """
    return str(error).splitlines()[0] if str(error) else type(error).__name__
