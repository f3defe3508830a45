from django.urls import path

from technicians import views, views_cards, views_day_sheet, views_feed

app_name = "technician"

urlpatterns = [
    path("", views.day, name="day"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("sign-out-others/", views.sign_out_others, name="sign_out_others"),
    path("visit/<int:pk>/", views.visit, name="visit"),
    path("visit/<int:pk>/start-trip/", views.start_trip, name="start_trip"),
    path("visit/<int:pk>/arrive/", views.arrive, name="arrive"),
    path("visit/<int:pk>/complete/", views.complete, name="complete"),
    path("visit/<int:pk>/not-home/", views.not_home, name="not_home"),
    path("visit/<int:pk>/card.pdf", views_cards.missed_card, name="missed_card"),
    path("cards/day-<str:day>.pdf", views_cards.day_pack, name="day_pack"),
    path("cards/blank.pdf", views_cards.blank_cards, name="blank_cards"),
    path("day-sheet/<str:day>.pdf", views_day_sheet.day_sheet, name="day_sheet"),
    path("day-sheet/<int:technician_id>/<str:day>.pdf", views_day_sheet.office_day_sheet, name="office_day_sheet"),
    path("feed/<str:token>.ics", views_feed.feed, name="feed"),
]
