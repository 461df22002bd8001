"""The code behind a result: which of this package's modules a piece of code imports, and their digest.

Every result this package keeps between runs is kept under a key of what
produced it: a screen's per-field parts (:mod:`analysis.batch.screen`), the
store of predictions (:mod:`analysis.models.store`) and the lesson's
executed pages (:mod:`analysis.lesson`). Part of that key is the code: the
source of the module that computes the result and of every module of this
package it imports, directly or not, followed here from the source text
itself (:func:`module_closure`). Editing any of those modules changes the key,
and the result is computed again; editing a module it does not import leaves
it valid. The package's version string, which a checkout never changes, is
no part of it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import tokenize
from pathlib import Path

PACKAGE = "analysis"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def module_file(name: str) -> Path | None:
    """The source file of a module of this package (its ``__init__.py`` for a sub-package).

    Parameters
    ----------
    name : str
        Dotted name, e.g. ``"analysis.steps.cells"``.

    Returns
    -------
    Path or None
        None for a name that is no module of this package.
    """
    parts = name.split(".")[1:]
    base = _PACKAGE_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(source: str, module: str = "") -> set[str]:
    """Modules of this package that a piece of code imports, at any depth of it.

    The code is read token by token (:mod:`tokenize`), not parsed into a
    syntax tree: CPython 3.11's ``ast`` keeps a depth counter shared by all
    threads, and the renderer computes these while its kernels' threads run.

    Parameters
    ----------
    source : str
        Python code (a module, or a page's cells joined).
    module : str
        The code's own module name, to resolve relative imports (``""``
        for a page).

    Returns
    -------
    set of str
        Dotted names; ``from analysis.io import images`` gives
        ``analysis.io`` and ``analysis.io.images``.
    """
    found = set()
    for words in _statements(source):
        if words[0] == "import":
            found |= {name.split(" as ")[0] for name in _names(words[1:])}
        elif words[0] == "from" and "import" in words:
            at = words.index("import")
            base = "".join(words[1:at])
            level = len(base) - len(base.lstrip("."))
            if level:
                package = module.rsplit(".", level)[0] if module else ""
                base = f"{package}.{base[level:]}".strip(".")
            found.add(base)
            found |= {f"{base}.{name.split(' as ')[0]}" for name in _names(words[at + 1 :])}
    return {name for name in found if name.split(".")[0] == PACKAGE and module_file(name)}


def _statements(source: str) -> list[list[str]]:
    """The logical lines of some code that import, each as its tokens' strings."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
    statements, words = [], []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in skip:
                continue
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or token.string == ";":
                if words and words[0] in ("import", "from"):
                    statements.append(words)
                words = []
            elif token.string == ":" and words and words[0] in ("else", "try", "finally"):
                words = []  # ``try: import x`` on one line
            else:
                words.append(token.string)
    except (tokenize.TokenError, SyntaxError):  # the page's kernel reports the code's own error
        pass
    return statements


def _names(words: list[str]) -> list[str]:
    """``a.b as c, d`` (tokens, parentheses allowed) as ``["a.b as c", "d"]``."""
    text = "".join(f" {word} " if word == "as" else word for word in words if word not in "()")
    return [name.strip() for name in text.split(",") if name.strip()]


def _with_parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts) + 1)}


@functools.cache
def module_closure(name: str) -> frozenset[str]:
    """A module of this package and every one of its modules it imports, directly or not.

    Parameters
    ----------
    name : str
        Dotted name, e.g. ``"analysis.steps.cells"``.

    Returns
    -------
    frozenset of str
        Including the packages on each module's path (their
        ``__init__.py`` runs on import).
    """
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        for module in _with_parents(current) - seen:
            seen.add(module)
            path = module_file(module)
            if path is not None:
                todo.extend(imported_modules(path.read_text(), module) - seen)
    return frozenset(module for module in seen if module_file(module))


@functools.cache
def code_digest(*modules: str) -> str:
    """SHA-256 over the source of these modules and of every module of this package they import.

    Parameters
    ----------
    *modules : str
        Dotted names, e.g. ``"analysis.batch.per_field"``.

    Returns
    -------
    str
        64 hex digits; each module's name and source bytes, in name order,
        make it. Read once per process, as the modules themselves are.
    """
    closure = sorted(set().union(*(module_closure(name) for name in modules)))
    digest = hashlib.sha256()
    for name in closure:
        digest.update(name.encode() + b"\0" + module_file(name).read_bytes() + b"\0")
    return digest.hexdigest()
