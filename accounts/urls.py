from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("code/", views.verify, name="verify"),
    path("two-factor/", views.setup, name="setup"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("recovery-codes/new/", views.recovery_codes_new, name="recovery_codes_new"),
    path("", views.security, name="security"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("sign-out-others/", views.sign_out_others, name="sign_out_others"),
    path("sign-out/", views.sign_out, name="sign_out"),
]
