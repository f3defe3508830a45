from django.urls import path  # noqa: F401 - the board's views add their paths here

app_name = "dispatch"

urlpatterns: list = []
