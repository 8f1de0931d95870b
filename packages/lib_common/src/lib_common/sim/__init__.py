"""The upstream simulator (`yahoo-sim`): Yahoo streaming + REST and CNN Fear & Greed on
one loopback port, deterministic per seed, with fault injection. See docs/simulator.md."""

from lib_common.sim.clock import Clock, ManualClock, wall_clock
from lib_common.sim.config import SimConfig
from lib_common.sim.faults import Fault, FaultKind, GarbageVariant, Target
from lib_common.sim.market import Market
from lib_common.sim.simulator import Simulator, run_simulator

__all__ = [
    "Clock",
    "Fault",
    "FaultKind",
    "GarbageVariant",
    "ManualClock",
    "Market",
    "SimConfig",
    "Simulator",
    "Target",
    "run_simulator",
    "wall_clock",
]
