"""Where a newly trained model goes, and how it replaces a folder only once complete."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from analysis.errors import AnalysisError
from analysis.io.output import atomic_folder
from analysis.models.stardist_model import PROJECT_MODEL, export_model
from analysis.training.train import CARD_FILE, TrainingSettings, train_model, write_model_card


def target_folder(model_dir: Path | None, overwrite: bool) -> Path:
    """The folder a training run writes, checked before any work.

    Parameters
    ----------
    model_dir : Path or None
        The folder asked for; None means a new dated folder beside the
        project model, or the project model itself with ``overwrite``.
    overwrite : bool
        Whether a trained model in the folder may be replaced.

    Returns
    -------
    Path

    Raises
    ------
    AnalysisError
        If the folder holds a trained model and ``overwrite`` is not given,
        or holds other files and no trained model (the new model replaces
        the folder whole).
    """
    if model_dir is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        model_dir = PROJECT_MODEL if overwrite else PROJECT_MODEL.with_name(f"{PROJECT_MODEL.name}-{stamp}")
    trained = (model_dir / "weights_best.h5").exists()
    if trained and not overwrite:
        raise AnalysisError(model_dir, "already holds a trained model; pass --overwrite to retrain it")
    if not trained and model_dir.is_dir() and any(model_dir.iterdir()):
        raise AnalysisError(model_dir, "holds other files and no trained model; give a new or empty folder")
    return model_dir


def train_into(model_dir: Path, settings: TrainingSettings) -> Path:
    """Train a model, export its network and write its card, then put the folder in place.

    The model is built in a hidden folder beside ``model_dir`` and moved
    into place only once its card is written, so an interrupted or failed
    run leaves ``model_dir`` as it was. The previous card's History is
    carried on, with this run's entry below it.

    Parameters
    ----------
    model_dir : Path
        From :func:`target_folder`.
    settings : TrainingSettings

    Returns
    -------
    Path
        The new model card.
    """
    with atomic_folder(model_dir) as staged:
        record = train_model(settings, staged)
        export_model(staged)  # the card's validation then runs the network as users will
        if (model_dir / CARD_FILE).is_file():
            shutil.copy2(model_dir / CARD_FILE, staged / CARD_FILE)
        entry = (
            f"{time.strftime('%Y-%m-%d')}: trained with `python -m analysis train` "
            f"({settings.epochs} epochs x {settings.steps_per_epoch} steps, {record['train_seconds']:.0f} s)."
        )
        write_model_card(staged, entry)
    return model_dir / CARD_FILE
