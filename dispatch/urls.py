from django.urls import path

from dispatch import views_find, views_week

app_name = "dispatch"

urlpatterns: list = [
    path("week/", views_week.week, name="week"),
    path("find/", views_find.find, name="find"),
    path("find/book/", views_find.find_book, name="find_book"),
]
