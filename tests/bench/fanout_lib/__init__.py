"""The fan-out benchmark's parts: workload, feeder, client workers, peer gateways, harness.

`tests/bench/fanout.py` is the command; everything it starts runs as its own process
(`python -m fanout_lib.<module>` with `tests/bench` on the path, or `node`), so each
process's CPU and memory come from its own kernel accounting.
"""
