"""The one exception the renderer raises for a problem a user can fix."""

from __future__ import annotations

from os import PathLike


class SourceError(Exception):
    """A problem with a named file or option that a user can fix.

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
        # Raised in another process (a kernel, a cluster's worker), it travels back pickled.
        return type(self), (self.source, self.problem)
