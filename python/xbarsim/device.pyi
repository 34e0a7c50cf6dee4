from ._xbarsim import device_iv as iv, device_pulse as pulse, device_retention as retention

__all__ = ["iv", "pulse", "retention"]
