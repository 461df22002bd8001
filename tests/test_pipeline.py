import pandas as pd
from conftest import run_cli


def test_summary_csv(tmp_path, dataframe_regression):
    out = tmp_path / "summary.csv"
    result = run_cli("summary", "--out", out)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert len(table) == 12
    assert list(table.columns[:2]) == ["well", "field"]
    first = table.iloc[0]
    assert (first.well, first.field, first.nuclei_max, first.actin_max) == ("A24", 1, 255, 122)
    dataframe_regression.check(table)
