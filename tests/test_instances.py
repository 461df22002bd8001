"""Instances derived from a foreground mask by the split rule."""

import numpy as np
from skimage.draw import disk

from analysis.steps.instances import split_touching


def test_split_touching_separates_two_discs():
    mask = np.zeros((40, 60), bool)
    mask[disk((20, 20), 10)] = True
    mask[disk((20, 37), 10)] = True
    labels = split_touching(mask)
    assert labels.max() == 2
    assert len(np.unique(labels[:, :25])) == 2
    assert len(np.unique(labels[:, 35:])) == 2
