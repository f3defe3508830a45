from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """Django's ModelBackend, loading the user's session generation in the same query: the check on every
    request (SessionGenerationMiddleware) then costs nothing more."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("session_generation").filter(pk=user_id).first()
        return user if self.user_can_authenticate(user) else None
