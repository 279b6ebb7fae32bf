"""Routing: who is calling (`agents.identify`), how complex the prompt is
(`classify.classify`), and what runs (`decide`). Pure functions over plain dicts; hot path.
"""

from shim.routing.decide import decide

__all__ = ["decide"]
