"""The quality-control page of a run: which fields are flagged, and what the page holds."""

import io
import re

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import synthetic_run

from analysis.plots import qc_page
from analysis.steps import quality


@pytest.fixture
def run(tmp_path):
    return synthetic_run(tmp_path / "images")


def test_the_blurred_saturated_and_empty_fields_are_flagged(run):
    flags = quality.flag_fields(run["tables"]["Image"], "DNA")
    assert flags.index[flags.blurred].tolist() == [4]  # image number 5
    assert flags.index[flags.saturated].tolist() == [7]
    assert flags.index[flags["empty"]].tolist() == [11]
    assert flags.reason[4].startswith("power spectrum slope -3.00 < ")
    assert flags.reason[7] == "4.0 % of DNA pixels at the maximum"
    assert flags.reason[11] == "no nucleus found"
    assert (flags.reason[~(flags.blurred | flags.saturated | flags["empty"])] == "").all()


def test_without_quality_measures_only_empty_fields_are_flagged(run):
    image = run["tables"]["Image"][["ImageNumber", "Count_Nuclei"]]
    flags = quality.flag_fields(image, "DNA")
    assert not flags.blurred.any()
    assert not flags.saturated.any()
    assert flags["empty"].sum() == 1


def test_too_few_fields_give_no_reference_for_blur(run):
    image = run["tables"]["Image"].iloc[: quality.BLUR_MIN_FIELDS - 1]
    assert not quality.flag_fields(image, "DNA").blurred.any()


@pytest.mark.parametrize(("wells", "layout"), [(["A01", "H12"], (8, 12)), (["A01", "I01"], (16, 24))])
def test_the_plate_is_the_smallest_that_holds_the_wells(wells, layout):
    assert qc_page.plate_layout(pd.Series(wells)) == layout


@pytest.mark.parametrize("plates", [1, 5, 48])
def test_a_plate_map_has_no_blank_band_above_or_below_the_plates(plates):
    per_well = pd.DataFrame(
        {
            "Metadata_Plate": [f"P{plate:02d}" for plate in range(plates) for _ in range(2)],
            "Metadata_Well": ["A24", "L15"] * plates,
            "Count_Nuclei": np.arange(2 * plates, dtype=float),
        }
    )
    figure = qc_page.plate_maps(per_well, "Count_Nuclei", "n")
    pixels = matplotlib.image.imread(io.BytesIO(qc_page.png(figure)))
    drawn = np.flatnonzero((pixels[..., :3] < 0.95).any(axis=(1, 2)))
    blank = 0.5 * len(pixels) / figure.get_figheight()  # half an inch, in pixels
    assert drawn[0] < blank
    assert len(pixels) - drawn[-1] < blank


def test_the_page_is_one_file_with_every_section(run):
    html = qc_page.qc_page(run["tables"], run["failures"], run["files"], "DNA", "Cells_AreaShape_Area")
    sources = re.findall(r'<img src="([^"]{0,30})', html)
    assert sources
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    assert not re.search(r'(href|src)="(http|//)', html)
    # Two plate maps, three thumbnails (the flagged fields), three per-well box plots.
    assert len(sources) == 2 + 3 + 3
    for text in ("Plate map: nuclei per field", "Plate map: Cells_AreaShape_Area", "Per-well distributions"):
        assert text in html
    assert "12 fields measured in 3 wells of 2 plates" in html
    assert "1 field failed. Flagged by image quality: 1 blurred, 1 saturated, 1 empty." in html
    assert "x.tif: not a readable TIFF image" in html
    assert "no nucleus found" in html


def test_the_summary_says_one_well_and_one_plate_in_the_singular(run):
    tables = {name: table[table.ImageNumber <= 2] for name, table in run["tables"].items()}
    assert tables["Image"].Metadata_Well.nunique() == tables["Image"].Metadata_Plate.nunique() == 1
    no_failures = run["failures"].iloc[:0]
    html = qc_page.qc_page(tables, no_failures, run["files"], "DNA", "Cells_AreaShape_Area")
    assert "2 fields measured in 1 well of 1 plate: " in html
    assert "0 fields failed." in html


def test_a_feature_not_measured_is_said(run):
    html = qc_page.qc_page(run["tables"], run["failures"], run["files"], "DNA", "Cytoplasm_AreaShape_Area")
    assert "Cytoplasm_AreaShape_Area was not measured in this run." in html
