"""Networking shared by the simulator and the gateways: one port for HTTP and WebSocket."""
