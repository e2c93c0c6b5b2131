"""Websocket routes of every app, gathered in one list for the ASGI router."""

from features.routing import websocket_urlpatterns as features_ws

websocket_urlpatterns = [*features_ws]
