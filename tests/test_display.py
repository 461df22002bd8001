import pandas as pd

from analysis import display


def test_shorten_keeps_the_distinguishing_tail():
    name = "AS_09125_050116000001_A24f00d0_slice1_channel1.tif"
    short = display.shorten(name, 36)
    assert len(short) == 36 and short.endswith("A24f00d0_slice1_channel1.tif") and "…" in short
    assert display.shorten("short", 36) == "short"


def test_show_table_writes_whole_csv_and_shows_rounded_head(tmp_path, monkeypatch):
    monkeypatch.setenv(display.TABLES_ENV, str(tmp_path))
    table = pd.DataFrame({"n": [1, 2, 3], "x": [0.12345, 1.5, 2.0], "name": ["a" * 50, "b", "c"]})
    shown = display.show_table(table, "demo", digits=2, rows=2).data
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "demo.csv"), table)
    assert "0.12" in shown and "2.00" not in shown and "| 1 " in shown
    assert "a" * 50 not in shown and "…" in shown
