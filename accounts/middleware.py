from django.contrib.auth import SESSION_KEY, logout

from accounts.models import SessionGeneration
from accounts.sessions import SESSION_GENERATION_KEY


class SessionGenerationMiddleware:
    """Ends a signed-in session that is older than its user's last "Sign out all devices".

    After AuthenticationMiddleware. The user as StaffBackend loads it carries its generation; only a session
    from before that backend costs a read of its own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session and request.user.is_authenticated:
            if session.get(SESSION_GENERATION_KEY, 0) != _generation(request.user):
                logout(request)
        return self.get_response(request)


def _generation(user) -> int:
    try:
        return user.session_generation.generation
    except SessionGeneration.DoesNotExist:
        # Never signed out everywhere: generation 0, as every session from before.
        return 0
