import pandas as pd

from analysis import display


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
