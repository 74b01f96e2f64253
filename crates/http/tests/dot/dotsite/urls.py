"""The token and revocation endpoints, and one protected resource."""
from django.urls import include, path

from . import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me", views.me),
]
