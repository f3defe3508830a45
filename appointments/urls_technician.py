from django.urls import path

from appointments import views_cards, views_technician

app_name = "technician"

urlpatterns = [
    path("", views_technician.day, name="day"),
    path("login/", views_technician.login, name="login"),
    path("logout/", views_technician.logout, name="logout"),
    path("visit/<int:pk>/", views_technician.visit, name="visit"),
    path("visit/<int:pk>/start-trip/", views_technician.start_trip, name="start_trip"),
    path("visit/<int:pk>/arrive/", views_technician.arrive, name="arrive"),
    path("visit/<int:pk>/complete/", views_technician.complete, name="complete"),
    path("visit/<int:pk>/not-home/", views_technician.not_home, name="not_home"),
    path("visit/<int:pk>/card.pdf", views_cards.missed_card, name="missed_card"),
    path("cards/day-<str:day>.pdf", views_cards.day_pack, name="day_pack"),
    path("cards/blank.pdf", views_cards.blank_cards, name="blank_cards"),
]
