import numpy as np
import pandas as pd
import tifffile
from conftest import run_here

from analysis.batch import serial
from analysis.io import pairing


def test_summary_csv(tmp_path, dataframe_regression):
    out = tmp_path / "summary.csv"
    result = run_here("summary", "--out", out)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert len(table) == 12
    assert list(table.columns[:2]) == ["well", "field"]
    first = table.iloc[0]
    assert (first.well, first.field, first.nuclei_max, first.actin_max) == ("A24", 1, 255, 122)
    dataframe_regression.check(table)


def test_a_field_without_nuclei_has_no_median_area(tmp_path):
    nuclei, actin = tmp_path / "nuclei.tif", tmp_path / "actin.tif"
    for path in (nuclei, actin):
        tifffile.imwrite(path, np.zeros((48, 48), np.uint16))
    counts, objects, labels = serial.count_nuclei([pairing.ImagePair("B02", 1, nuclei, actin)], "otsu")
    assert counts.n_nuclei.tolist() == [0]
    assert np.isnan(counts.median_area[0])
    assert objects.empty
    assert not labels["B02 f1"].any()
