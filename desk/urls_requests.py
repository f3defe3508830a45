from django.urls import path

from desk import views_requests as views

app_name = "requests"

urlpatterns = [
    path("", views.request_page, name="page"),
    path("thanks/<str:token>/", views.thanks, name="thanks"),
    path("call/<int:pk>/<str:secret>/", views.call_page, name="call"),
]
