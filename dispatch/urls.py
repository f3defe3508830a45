from django.urls import path

from dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("", views.day, name="day"),
    path("move/", views.move, name="move"),
    path("move/<int:pk>/", views.move_form, name="move_form"),
]
