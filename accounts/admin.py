"""django-otp's own admins show each colleague's secret key and recovery codes: not on the office's admin.

What an office admin needs are the actions on the user list (accounts.admin_actions): a lost phone is reset,
and a colleague sees their own app under "Sign-in security". Failed sign-ins are in django-axes' admin, where
deleting an attempt lifts its lockout.
"""

from django.contrib import admin
from django.contrib.admin.sites import NotRegistered
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

for model in (TOTPDevice, StaticDevice):
    try:
        admin.site.unregister(model)
    except NotRegistered:
        pass
