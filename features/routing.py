from django.urls import path

from features.consumers import FeatureProgressConsumer

websocket_urlpatterns = [
    path("ws/features/", FeatureProgressConsumer.as_asgi()),
]
