from django.urls import path

from selfservice import views

app_name = "selfservice"

urlpatterns = [
    path("", views.page, name="page"),
    path("book/", views.book, name="book"),
    path("cancel/", views.cancel, name="cancel"),
    path("week/", views.week, name="week"),
    path("done/", views.done, name="done"),
    path("calendar.ics", views.calendar_file, name="calendar"),
    path("l/<path:token>/", views.open_link, name="open"),
]
