from django.urls import path

from desk import views_feedback

app_name = "feedback"

urlpatterns = [
    path("<str:token>/", views_feedback.feedback_page, name="open"),
]
