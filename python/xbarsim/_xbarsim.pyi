"""Type stubs of the compiled module (python/src/lib.rs)."""

import os
from typing import Any, Mapping, Optional, Sequence, Union, final

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = [
    "XbarError",
    "Crossbar",
    "run_netlist",
    "device_iv",
    "device_pulse",
    "device_retention",
    "fit",
    "__version__",
]
_Path = Union[str, os.PathLike[str]]
_F64 = npt.NDArray[np.float64]

class XbarError(Exception):
    """An xbarsim error; the message names the file, line, key or element at fault."""

@final
class Crossbar:
    """A crossbar array, described as by a crossbar TOML config."""

    def __new__(cls, **fields: Any) -> "Crossbar":
        """Keys and tables of a crossbar TOML config as keyword arguments (tables as dicts)."""
    @staticmethod
    def from_toml(path: _Path) -> "Crossbar": ...
    @property
    def rows(self) -> int: ...
    @property
    def cols(self) -> int: ...
    @property
    def g(self) -> _F64:
        """Read conductance of every cell (S), shape (rows, physical columns)."""
    def mvm(self, inputs: npt.ArrayLike) -> dict[str, Optional[npt.NDArray[Any]]]:
        """Multiply inputs of shape (vectors, rows), fractions of full scale in [0, 1].

        Keys: ``ideal_a``, ``analog_a``, ``digital_a``, ``rel_error`` (float64, (vectors, cols));
        ``digital_code`` (int64, (vectors, cols), or None without an ADC); ``energy_j`` and
        ``energy_wires_j`` (float64, (vectors,)).
        """
    def read(
        self, row: int, col: int, scheme: str = "v/2", v: Optional[float] = None
    ) -> dict[str, float]:
        """Read one cell; keys ``i_sense_a``, ``i_cell_a``, ``i_sneak_a``, ``v_cell_v``,
        ``power_w``, ``i_sense_on_a``, ``i_sense_off_a``, ``read_margin``."""
    def node_map(self, inputs: Optional[Sequence[float]] = None) -> dict[str, _F64]:
        """Node voltages (V) and cell currents (A) of one MVM solve, each (rows, phys. cols)."""

def run_netlist(path: _Path) -> dict[str, Any]:
    """Every analysis of a netlist: ``op`` -> {name: float}; ``dc``/``tran`` -> {column: array};
    ``warnings`` -> list of str."""

def device_iv(
    card: _Path,
    vmax: Optional[float] = None,
    vmin: Optional[float] = None,
    period: Optional[float] = None,
    points: int = 401,
    seed: int = 0,
) -> dict[str, _F64]: ...
def device_pulse(
    card: _Path,
    amplitude: float,
    width: float,
    count: int,
    v_read: float = 0.1,
    seed: int = 0,
) -> dict[str, _F64]: ...
def device_retention(card: _Path, times: Sequence[float], seed: int = 0) -> dict[str, _F64]: ...
def fit(
    family: str,
    kind: str,
    data: _Path,
    free: Optional[Sequence[str]] = None,
    card: Optional[_Path] = None,
    set: Optional[Mapping[str, float]] = None,
    cycles: Optional[str] = None,
    columns: Optional[str] = None,
    units: Optional[str] = None,
    filters: Optional[Mapping[str, str]] = None,
    compliance: Optional[float] = None,
    no_compliance: bool = False,
    series_r: float = 0.0,
    set_polarity: Optional[str] = None,
    sweep_rate: Optional[float] = None,
    amplitude: Optional[float] = None,
    width: Optional[float] = None,
    v_read: Optional[float] = None,
    temp_k: Optional[float] = None,
    residual: Optional[str] = None,
    i_floor: float = 1e-12,
    starts: int = 8,
    seed: int = 1,
    out: Optional[_Path] = None,
) -> dict[str, Any]:
    """Fit a device model to measured CSV data, as ``xbar fit`` (keywords = its flags;
    ``set`` = ``--set``, ``filters`` = ``--where``). With ``out`` it writes what
    ``xbar fit -o OUT`` writes. Keys: ``params`` ({name: {"value", "stderr", "ci95": (low, high),
    "start", "unit"}}), ``rmse`` (in the ``residual``'s unit: decades for log), ``residual``,
    ``r2``, ``n_points``, ``iterations``, ``set_polarity``, ``compliance_a``, ``measured``,
    ``simulated`` (float64 arrays), ``card_text`` (the fitted card) and ``card`` (its path or None).
    """
