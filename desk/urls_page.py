from django.urls import path

from desk import views_page

app_name = "desk"

urlpatterns = [
    path("", views_page.page, name="page"),
    path("seen/", views_page.mark_seen, name="mark_seen"),
]
