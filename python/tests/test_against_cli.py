"""The Python module against the CLI: same inputs, the numbers `xbar` writes to CSV.

Tolerances are the CSVs' printed precision: `xbar mvm` prints currents with 13 significant
digits and rel_error with 7; netlist and device tables print 16.
"""

import csv
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import xbarsim


def read_csv(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, f"{path} is empty"
    return rows


def column(rows, name):
    return np.array([float(r[name]) for r in rows])


# --- crossbar ---------------------------------------------------------------------------------

CARD_CONFIG = "examples/configs/crossbar_0t1r_oxram_card.toml"
MOS_CONFIG = "examples/configs/crossbar_1t1r_oxram.toml"


@pytest.mark.parametrize("config", [CARD_CONFIG, MOS_CONFIG])
def test_mvm_returns_the_cli_csv_columns(repo, run_xbar, tmp_path, config):
    xb = xbarsim.Crossbar.from_toml(repo / config)
    x = np.random.default_rng(1).uniform(0.0, 1.0, size=(3, xb.rows))
    inputs = tmp_path / "in.csv"
    np.savetxt(inputs, x, delimiter=",", fmt="%.17g")
    run_xbar("mvm", repo / config, "--inputs", inputs, "-o", tmp_path / "run")
    rows = read_csv(tmp_path / "run.mvm.csv")

    out = xb.mvm(x)
    for key in ["ideal_a", "analog_a", "rel_error"]:
        assert out[key].shape == (3, xb.cols)
    order = [(int(r["vector"]), int(r["column"])) for r in rows]
    assert order == [(k, j) for k in range(3) for j in range(xb.cols)]
    np.testing.assert_allclose(out["ideal_a"].ravel(), column(rows, "ideal_a"), rtol=1e-12)
    np.testing.assert_allclose(out["analog_a"].ravel(), column(rows, "analog_a"), rtol=1e-12)
    np.testing.assert_allclose(out["rel_error"].ravel(), column(rows, "rel_error"), rtol=1e-6)
    codes = np.array([int(r["digital_code"]) for r in rows])
    np.testing.assert_array_equal(out["digital_code"].ravel(), codes)
    assert out["energy_j"].shape == (3,) and np.all(out["energy_j"] > 0)


def test_keyword_fields_describe_the_same_array_as_the_toml_file(repo):
    tomllib = pytest.importorskip("tomllib")
    with open(repo / MOS_CONFIG, "rb") as f:
        fields = tomllib.load(f)
    fields["rows"] = fields["cols"] = 16
    from_kwargs = xbarsim.Crossbar(**fields)
    text = (repo / MOS_CONFIG).read_text().replace("rows = 64", "rows = 16")
    text = text.replace("cols = 64", "cols = 16")
    assert (from_kwargs.rows, from_kwargs.cols) == (16, 16)
    x = np.linspace(0.0, 1.0, 16)
    a = from_kwargs.mvm(x)
    b = xbarsim.Crossbar.from_toml(_write(text)).mvm(x)
    np.testing.assert_array_equal(a["analog_a"], b["analog_a"])


def _write(text):
    import tempfile

    f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    f.write(text)
    f.close()
    return f.name


@pytest.mark.parametrize("scheme", ["v/2", "v/3", "grounded"])
def test_read_matches_xbar_read(repo, run_xbar, scheme):
    xb = xbarsim.Crossbar.from_toml(repo / CARD_CONFIG)
    printed = run_xbar("read", repo / CARD_CONFIG, "--cell", "3,5", "--scheme", scheme)
    # Lines like "sense current     1.234567e-05 A".
    cli = {}
    for line in printed.splitlines():
        words = line.split()
        label = " ".join(w for w in words if not _is_number(w) and w not in ("A", "V", "W"))
        cli[label] = float(next(w for w in words if _is_number(w)))
    r = xb.read(3, 5, scheme)
    pairs = {
        "sense current": "i_sense_a",
        "cell current": "i_cell_a",
        "sneak current": "i_sneak_a",
        "cell voltage": "v_cell_v",
        "source power": "power_w",
        "read margin": "read_margin",
    }
    for label, key in pairs.items():
        assert r[key] == pytest.approx(cli[label], rel=1e-6, abs=1e-18), label


def _is_number(w):
    try:
        float(w)
        return True
    except ValueError:
        return False


def test_node_map_of_an_ideal_linear_array_is_the_closed_form():
    # Ideal wires and periphery: every row sits at x_i·v_read, every column at virtual ground,
    # so each cell carries I = G·V (Ohm's law), independent of the solver.
    g = np.array([[1e-4, 2e-5, 7e-5], [3e-5, 9e-5, 1e-5]])
    weights = (g - 1e-6) / (1e-4 - 1e-6)
    path = _write("\n".join(",".join(f"{w:.17g}" for w in row) for row in weights) + "\n")
    xb = xbarsim.Crossbar(
        rows=2, cols=3, cell="0T1R", device={"kind": "linear", "g_min": 1e-6, "g_max": 1e-4},
        periphery={"v_read": 0.2}, weights={"csv": path},
    )
    np.testing.assert_allclose(xb.g, g, rtol=1e-12)
    m = xb.node_map([1.0, 0.5])
    v = np.array([0.2, 0.1])
    np.testing.assert_allclose(m["v_row"], np.repeat(v[:, None], 3, axis=1), rtol=1e-12)
    np.testing.assert_allclose(m["v_col"], 0.0, atol=1e-15)
    np.testing.assert_allclose(m["i_cell"], g * v[:, None], rtol=1e-12)


def test_the_gil_is_released_while_an_array_solves(repo):
    xb = xbarsim.Crossbar.from_toml(repo / "examples/configs/bench_1t1r_oxram_256.toml")
    x = np.random.default_rng(0).uniform(size=(2, xb.rows))
    span = []

    def solve():
        t0 = time.perf_counter()
        xb.mvm(x)
        span.extend([t0, time.perf_counter()])

    t = threading.Thread(target=solve)
    t.start()
    stamps = []
    while t.is_alive():
        stamps.append(time.perf_counter())  # Python code: runs only without the GIL held
        time.sleep(0.001)
    t.join()
    t0, t1 = span
    assert t1 - t0 > 0.05, "the solve was too short to tell"
    middle = [s for s in stamps if t0 + 0.25 * (t1 - t0) < s < t0 + 0.75 * (t1 - t0)]
    # With the GIL held through the solve the main thread could not run at all in there.
    assert len(middle) >= 10, f"{len(middle)} main-thread steps in the middle of a {t1 - t0:.2f} s solve"


# --- errors -----------------------------------------------------------------------------------


def test_a_bad_netlist_raises_xbar_error_with_file_and_line(tmp_path):
    deck = tmp_path / "bad.cir"
    deck.write_text("title\nR1 a 0 1k\nR2 a 0 zzz\n.op\n.end\n")
    with pytest.raises(xbarsim.XbarError, match=r"bad\.cir:3:"):
        xbarsim.run_netlist(deck)


def test_inputs_outside_full_scale_raise(repo):
    xb = xbarsim.Crossbar.from_toml(repo / CARD_CONFIG)
    with pytest.raises(xbarsim.XbarError, match="outside"):
        xb.mvm(np.full((1, xb.rows), 1.5))


def test_a_missing_config_names_the_file(tmp_path):
    with pytest.raises(xbarsim.XbarError, match="nope.toml"):
        xbarsim.Crossbar.from_toml(tmp_path / "nope.toml")


def test_an_unknown_keyword_field_names_the_key():
    with pytest.raises(xbarsim.XbarError, match="colz"):
        xbarsim.Crossbar(rows=2, cols=2, colz=3)


# --- netlists ---------------------------------------------------------------------------------


@pytest.mark.parametrize("deck", ["diode_basic_op", "rc_pulse_tran", "diode_bv_dc"])
def test_run_netlist_matches_xbar_run_csvs(repo, run_xbar, tmp_path, deck):
    path = repo / "netlists" / f"{deck}.cir"
    run_xbar("run", path, "-o", tmp_path / "p")
    res = xbarsim.run_netlist(path)
    written = sorted(p.name for p in tmp_path.glob("p.*.csv"))
    assert written == sorted(f"p.{k}.csv" for k in res if k != "warnings")
    for kind, values in res.items():
        if kind == "warnings":
            continue
        rows = read_csv(tmp_path / f"p.{kind}.csv")
        if kind.startswith("op"):
            cli = {r["name"]: float(r["value"]) for r in rows}
            assert set(cli) == set(values)
            for name, v in values.items():
                assert v == pytest.approx(cli[name], rel=1e-14, abs=1e-300), name
        else:
            assert list(values) == list(rows[0].keys())
            for name, v in values.items():
                np.testing.assert_allclose(v, column(rows, name), rtol=1e-14, atol=1e-300)


# --- devices ----------------------------------------------------------------------------------

OXRAM = "device-models/oxram-stanford-v1.toml"
MTJ = "device-models/mtj_pma_cheng2014.toml"


def _compare_table(py, rows):
    assert list(py) == list(rows[0].keys())
    for name, v in py.items():
        np.testing.assert_allclose(v, column(rows, name), rtol=1e-14, atol=1e-300, err_msg=name)


def test_device_iv_matches_xbar_device_iv(repo, run_xbar, tmp_path):
    run_xbar("device", "iv", repo / OXRAM, "--seed", "3", "-o", tmp_path / "iv.csv")
    py = xbarsim.device.iv(repo / OXRAM, seed=3)
    _compare_table(py, read_csv(tmp_path / "iv.csv"))
    assert len(py["v_v"]) == 401


def test_device_pulse_matches_xbar_device_pulse(repo, run_xbar, tmp_path):
    args = ("--amplitude", "1.2", "--width", "100n", "--count", "20", "--seed", "5")
    run_xbar("device", "pulse", repo / OXRAM, *args, "-o", tmp_path / "p.csv")
    py = xbarsim.device.pulse(repo / OXRAM, amplitude=1.2, width=100e-9, count=20, seed=5)
    _compare_table(py, read_csv(tmp_path / "p.csv"))


def test_device_retention_matches_xbar_device_retention(repo, run_xbar, tmp_path):
    run_xbar("device", "retention", repo / MTJ, "--times", "1,10,100", "-o", tmp_path / "r.csv")
    py = xbarsim.device.retention(repo / MTJ, [1.0, 10.0, 100.0])
    _compare_table(py, read_csv(tmp_path / "r.csv"))
