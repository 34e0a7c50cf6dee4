"""xbarsim: memristive crossbar arrays from the device up (Python face of the Rust library).

>>> import numpy as np, xbarsim
>>> xb = xbarsim.Crossbar.from_toml("examples/configs/crossbar_1t1r_oxram.toml")
>>> out = xb.mvm(np.random.default_rng(0).uniform(size=(4, xb.rows)))
>>> out["analog_a"].shape
(4, 64)

Every number comes from the same Rust calls as the ``xbar`` command line; errors raise
:class:`XbarError` with the library's message (file, line, key or element at fault).
"""

from . import device
from ._xbarsim import Crossbar, XbarError, __version__, fit, run_netlist

__all__ = ["Crossbar", "XbarError", "run_netlist", "fit", "device", "__version__"]
