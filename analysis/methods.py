"""The nuclei methods by name: what each runs and whether it needs a model.

One registry, read by the command line (the choices it offers), the runs
over many fields (which need a model loaded) and the training's model card
(which methods it scores).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.errors import AnalysisError
from analysis.models.predict import predict_labels
from analysis.models.stardist_model import LoadedModel
from analysis.steps.segment import fit_to_foreground, li_labels, otsu_labels, watershed_labels


@dataclass(frozen=True)
class Method:
    """A way of finding nuclei in an image.

    Attributes
    ----------
    name : str
    needs_model : bool
        Whether it predicts with a StarDist model, and so also rescales
        the image to the model's nucleus size.
    run : callable
        ``run(image, model, scale)`` gives the ``int32`` label image.
    summary : str
        One line for help texts.
    """

    name: str
    needs_model: bool
    run: Callable[[np.ndarray, LoadedModel | None, float], np.ndarray]
    summary: str


def _stardist(image: np.ndarray, model: LoadedModel | None, scale: float) -> np.ndarray:
    return predict_labels(model, image, scale)[0]


def _stardist_li(image: np.ndarray, model: LoadedModel | None, scale: float) -> np.ndarray:
    # The model recalls its latest predictions: after "stardist", this does not predict again.
    return fit_to_foreground(predict_labels(model, image, scale)[0], image)


#: Every method, in the order tables and plots show them.
METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("stardist", True, _stardist, "StarDist's nuclei at the model's scale"),
        Method("stardist-li", True, _stardist_li, "StarDist's nuclei fitted to Li's foreground"),
        Method("watershed", False, lambda image, _m, _s: watershed_labels(image), "Otsu split by watershed"),
        Method("otsu", False, lambda image, _m, _s: otsu_labels(image), "Otsu's foreground, components"),
        Method("li", False, lambda image, _m, _s: li_labels(image), "Li's foreground, components"),
    )
}


def get_method(name: str) -> Method:
    """The method of a name.

    Parameters
    ----------
    name : str

    Returns
    -------
    Method

    Raises
    ------
    AnalysisError
        For an unknown name.
    """
    if name not in METHODS:
        raise AnalysisError(name, f"unknown method; choose from {', '.join(METHODS)}")
    return METHODS[name]


def needs_model(names: str | Sequence[str]) -> bool:
    """Whether any of the named methods predicts with a model.

    Parameters
    ----------
    names : str or sequence of str

    Returns
    -------
    bool
    """
    return any(get_method(name).needs_model for name in ([names] if isinstance(names, str) else names))


def segment_all(
    image: np.ndarray, methods: Sequence[str], model: LoadedModel | None = None, scale: float = 1.0
) -> dict[str, np.ndarray]:
    """Instance labels of one image by each of several methods.

    StarDist predicts at most once: ``"stardist-li"`` fits the same
    prediction that ``"stardist"`` returns.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    methods : sequence of str
        Names in :data:`METHODS`.
    model : LoadedModel, optional
        Required for the methods that need one.
    scale : float
        Resampling factor for StarDist
        (:func:`analysis.models.predict.predict_labels`); the threshold
        methods work at the image's own scale.

    Returns
    -------
    dict
        Method name to its ``int32`` label image.

    Raises
    ------
    AnalysisError
        For an unknown method name.
    """
    return {name: get_method(name).run(image, model, scale) for name in methods}


def segment(
    image: np.ndarray, method: str, model: LoadedModel | None = None, scale: float = 1.0
) -> np.ndarray:
    """Instance labels of one image by the named method.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
    method : str
        A name in :data:`METHODS`: ``"stardist"``; ``"stardist-li"``,
        StarDist's nuclei fitted to Li's foreground
        (:func:`analysis.steps.segment.fit_to_foreground`); ``"watershed"``;
        ``"otsu"`` and ``"li"``, plain thresholds of the raw image (Otsu's,
        and Li's minimum cross-entropy), their connected components taken
        as objects (references for the validation).
    model : LoadedModel, optional
        Required for the StarDist methods.
    scale : float
        See :func:`segment_all`.

    Returns
    -------
    ndarray of int32, shape (rows, cols)
    """
    return get_method(method).run(image, model, scale)


def method_label(method: str, model: LoadedModel | None) -> str:
    """How a method is named next to its counts, e.g. ``"stardist (project)"``.

    Parameters
    ----------
    method : str
    model : LoadedModel, optional

    Returns
    -------
    str
    """
    return f"{method} ({model.name})" if get_method(method).needs_model else method
