"""A per-user session generation: "Sign out all devices" ends every session of a user without scanning
the session table (sessions live in the database and may be many; a signed cookie session could not be
found at all)."""

from accounts.models import SessionGeneration

SESSION_GENERATION_KEY = "_doorstep_generation"


def current_generation(user_id) -> int:
    # Users who never signed out everywhere have no row: generation 0, as every session from before.
    return SessionGeneration.objects.filter(user_id=user_id).values_list("generation", flat=True).first() or 0


def remember_generation(sender, request, user, **kwargs):
    """On every sign-in (user_logged_in): the session belongs to the user's current generation."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_GENERATION_KEY] = current_generation(user.pk)
