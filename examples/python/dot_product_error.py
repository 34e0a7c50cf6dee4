"""Dot-product error against array size, from Python (notebook-style: run cell by cell or whole).

    pip install ./python matplotlib      # once
    python examples/python/dot_product_error.py

Builds square 1T1R OxRAM arrays (the config examples/configs/crossbar_1t1r_oxram.toml, resized)
with geometric wire resistance, multiplies random inputs, and plots the RMS error of the analog
column currents against the ideal sum V_i*G_ij. Writes notebooks-out/python_dot_product_error.png
(with matplotlib) and .csv (always).
"""

# %% Set-up
import csv
import tomllib
from pathlib import Path

import numpy as np

import xbarsim

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "notebooks-out"
with open(ROOT / "examples/configs/crossbar_1t1r_oxram.toml", "rb") as f:
    BASE = tomllib.load(f)

# %% Sweep the array size: one Crossbar per size, the same seeded random inputs each time
sizes = [8, 16, 32, 64, 128]
rng = np.random.default_rng(0)
rms = []
for n in sizes:
    xb = xbarsim.Crossbar(**{**BASE, "rows": n, "cols": n})
    out = xb.mvm(rng.uniform(0.0, 1.0, size=(8, n)))
    err = out["analog_a"] - out["ideal_a"]
    # Normalised per vector by its largest ideal current, as `xbar mvm` reports it.
    scale = np.abs(out["ideal_a"]).max(axis=1, keepdims=True)
    rms.append(float(np.sqrt(np.mean((err / scale) ** 2))))
    print(f"{n:4d}x{n:<4d} RMS error {rms[-1]:.3e}  energy/MVM {out['energy_j'].mean():.3e} J")

# %% Write the numbers, then the figure where matplotlib is installed
OUT.mkdir(exist_ok=True)
with open(OUT / "python_dot_product_error.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["size", "rms_error"])
    w.writerows(zip(sizes, rms))
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: wrote", OUT / "python_dot_product_error.csv", "only")
else:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(sizes, rms, "o-")
    ax.set_xlabel("array size N (N x N)")
    ax.set_ylabel("RMS error (fraction of max |I*|)")
    ax.set_title("1T1R OxRAM: dot-product error vs size")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT / "python_dot_product_error.png", dpi=120)
    print("wrote", OUT / "python_dot_product_error.png")
