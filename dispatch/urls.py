from django.urls import path

from dispatch import views, views_find, views_week

app_name = "dispatch"

urlpatterns = [
    path("", views.day, name="day"),
    path("move/", views.move, name="move"),
    path("move/<int:pk>/", views.move_form, name="move_form"),
    path("week/", views_week.week, name="week"),
    path("find/", views_find.find, name="find"),
    path("find/book/", views_find.find_book, name="find_book"),
]
