"""Networking shared by the simulator and the gateways: one port for HTTP and WebSocket."""

from lib_common.net.frames import binary_frame, text_frame
from lib_common.net.http import Headers, HttpHandler, HttpRequest, HttpResponse, not_found
from lib_common.net.server import Server, ServerSettings, WsGate, WsHandler, serve
from lib_common.net.sink import FrameSink
from lib_common.net.ws import WsConnection

__all__ = [
    "FrameSink",
    "Headers",
    "HttpHandler",
    "HttpRequest",
    "HttpResponse",
    "Server",
    "ServerSettings",
    "WsConnection",
    "WsGate",
    "WsHandler",
    "binary_frame",
    "not_found",
    "serve",
    "text_frame",
]
