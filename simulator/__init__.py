"""The wireproof reference simulator: an in-process, Exchange-2003-style server.

    from simulator import Simulator
    with Simulator() as sim:
        sim.endpoints        # {"smtp-1": "smtp://127.0.0.1:PORT", "pop3-1": "pop3://127.0.0.1:PORT"}

Directory -> (one-way replication) -> metabase -> virtual servers -> ExIPC -> store; see sim.py.
"""
from .sim import Simulator, SimulatorError

__all__ = ["Simulator", "SimulatorError"]
