"""Single-device experiments on a parameter card (``device-models/*.toml``), as ``xbar device``.

Each returns a dict of 1-D numpy arrays, one per CSV column of the matching command.
"""

from ._xbarsim import device_iv as iv
from ._xbarsim import device_pulse as pulse
from ._xbarsim import device_retention as retention

__all__ = ["iv", "pulse", "retention"]
