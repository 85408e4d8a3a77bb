"""A stand-in for the platforms, serving recorded real responses. Imports nothing of weidang.

`Emulator(World(...), FaultPlan...)` is an HTTP(S) proxy answering for Weibo and WeChat hosts;
see README.md, "The platform emulator".
"""

from emulator.faults import FaultPlan, FaultPlanError
from emulator.server import Emulator
from emulator.world import World, WorldError

__all__ = ["Emulator", "FaultPlan", "FaultPlanError", "World", "WorldError"]
