"""`xbarsim.fit` against `xbar fit`: the same data and flags give PREFIX.fit.csv's numbers.

A small real data set keeps it fast: the TiO2 retention trace of examples/data (4315 reads,
three free parameters, two starts; well under a second). The CSV prints each number in its
shortest round-trip form, so the comparison is exact.
"""

import csv
import json

import numpy as np
import pytest

import xbarsim

DATA = "examples/data/tio2-drift/drift_d67_sa20_7_13_20.csv"
START = {"g_ini": 0.2e-9, "i0": 1e-5, "l_rlx": 2e-12, "vel_rlx": 1e3}
FREE = ["i0", "vel_rlx", "l_rlx"]


def _card_values(text):
    """The card's non-comment lines (the provenance comment carries a time stamp)."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def test_fit_returns_the_parameters_xbar_fit_writes(repo, run_xbar, tmp_path):
    start = ",".join(f"{k}={v!r}" for k, v in START.items())
    run_xbar(
        "fit", "--family", "oxram", "--kind", "retention", "--data", repo / DATA,
        "--set", start, "--free", ",".join(FREE), "--starts", "2", "-o", tmp_path / "cli",
    )
    with open(tmp_path / "cli.fit.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["parameter"] for r in rows] == FREE

    r = xbarsim.fit(
        "oxram", "retention", repo / DATA, free=FREE, set=START, starts=2, out=tmp_path / "py"
    )
    assert list(r["params"]) == FREE
    for row in rows:
        p = r["params"][row["parameter"]]
        assert p["value"] == float(row["value"])
        assert p["stderr"] == float(row["stderr"])
        assert p["ci95"] == (float(row["ci95_low"]), float(row["ci95_high"]))
        assert p["ci95"][0] < p["value"] < p["ci95"][1]

    summary = json.loads((tmp_path / "cli.fit.json").read_text())
    assert r["rmse"] == pytest.approx(summary["rmse"], rel=1e-12)
    assert r["r2"] == pytest.approx(summary["r2"], rel=1e-12)
    assert r["n_points"] == r["measured"].shape[0] == r["simulated"].shape[0] == 4315
    # The RMSE is that of the returned curves (log10 G, decades).
    rmse = np.sqrt(np.mean((np.log10(r["simulated"]) - np.log10(r["measured"])) ** 2))
    assert rmse == pytest.approx(r["rmse"], rel=1e-6)

    # out=PREFIX writes the CLI's files; the card returned is the card written.
    for suffix in [".card.toml", ".fit.csv", ".fit.json", ".svg", ".png"]:
        assert (tmp_path / ("py" + suffix)).is_file(), suffix
    assert (tmp_path / "py.fit.csv").read_text() == (tmp_path / "cli.fit.csv").read_text()
    assert r["card"] is not None and str(r["card"]).endswith("py.card.toml")
    assert _card_values(r["card_text"]) == _card_values((tmp_path / "py.card.toml").read_text())
    assert _card_values(r["card_text"]) == _card_values((tmp_path / "cli.card.toml").read_text())


def test_fit_without_out_writes_nothing(repo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = xbarsim.fit("oxram", "retention", repo / DATA, free=FREE, set=START, starts=2)
    assert r["card"] is None and "i0" in r["card_text"]
    assert list(tmp_path.iterdir()) == []


def test_fit_errors_name_the_file_and_what_is_wrong(repo, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,r_ohm\n0,1000\n10,abc\n")
    with pytest.raises(xbarsim.XbarError, match=r"bad\.csv.*(line|row) 3"):
        xbarsim.fit("oxram", "retention", bad, free=FREE, set=START)
    with pytest.raises(xbarsim.XbarError, match="vel_rlx"):
        xbarsim.fit("oxram", "retention", repo / DATA, free=FREE, set={"vel_rlx": 0.0})
