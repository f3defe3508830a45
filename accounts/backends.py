from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied


class StaffBackend(ModelBackend):
    """Django's ModelBackend, loading the user's session generation in the same query: the check on every
    request (SessionGenerationMiddleware) then costs nothing more."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            # Refused here, refused for good: ModelBackend, listed after us only for the sessions it signed in
            # before, would hash the same wrong password a second time.
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("session_generation").filter(pk=user_id).first()
        return user if self.user_can_authenticate(user) else None
