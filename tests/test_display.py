import pandas as pd

from analysis.site import display


def test_shorten_keeps_the_distinguishing_tail():
    name = "AS_09125_050116000001_A24f00d0_slice1_channel1.tif"
    short = display.shorten(name, 36)
    assert len(short) == 36
    assert short.endswith("A24f00d0_slice1_channel1.tif")
    assert "…" in short
    assert display.shorten("short", 36) == "short"


def test_markdown_table_rounds_floats_and_shortens_text():
    table = pd.DataFrame({"n": [1, 2], "x": [0.12345, 2.0], "name": ["a" * 50, "b"]})
    shown = display.markdown_table(table, digits=2)
    assert "| 0.12 " in shown
    assert "| 2.00 " in shown
    assert "| 1 " in shown
    assert "a" * 50 not in shown
    assert "…" in shown
    assert shown.count("\n") == 3  # header, rule, two rows


def test_float_columns_show_the_fewest_decimals_that_keep_their_values():
    table = pd.DataFrame(
        {
            "diameter": [14.0, 27.8],
            "area": [84.5, 89.0],
            "count": [172.0, 338.0],
            "dice": [0.9491, 0.95],
            "tiny": [0.0004, 1.0],
            "gap": [float("nan"), 2.5],
        }
    )
    shown = display.markdown_table(table, digits=3)
    rows = [line.split("|")[1:-1] for line in shown.splitlines()[2:]]
    assert [cell.strip() for cell in rows[0]] == ["14.0", "84.5", "172", "0.949", "0.000", "nan"]
    assert [cell.strip() for cell in rows[1]] == ["27.8", "89.0", "338", "0.950", "1.000", "2.5"]
