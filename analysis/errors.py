"""The one exception the command line turns into a one-line message."""

from __future__ import annotations

from analysis.site.errors import SourceError


class AnalysisError(SourceError):
    """A problem with an input of the analysis that a user can fix.

    Raised with the file, folder or option it is about and what is wrong
    (:class:`analysis.site.errors.SourceError`); a cell of a lesson page
    that raises it fails the render with that one line.
    """


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
