"""Permissions-Policy on every response: the browser features in settings.PERMISSIONS_POLICY are off unless
a view asks for one (`@permissions_policy(geolocation=["self"])`), as Django's csp_override does for the CSP."""

from functools import wraps

from django.conf import settings

HEADER = "Permissions-Policy"


def render(policy: dict[str, list[str]]) -> str:
    """`camera=(), geolocation=(self)`: "self" as the keyword, anything else as a quoted origin."""
    return ", ".join(
        f"{feature}=({' '.join(item if item == 'self' else f'"{item}"' for item in allowed)})"
        for feature, allowed in policy.items()
    )


def permissions_policy(**features: list[str]):
    """Allow features for one view's responses; geolocation=["self"] lets the page itself ask for the position."""
    override = {name.replace("_", "-"): allowed for name, allowed in features.items()}

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response._permissions_policy = override
            return response

        return wrapped

    return decorator


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response:
            policy = {**settings.PERMISSIONS_POLICY, **getattr(response, "_permissions_policy", {})}
            if policy:
                response[HEADER] = render(policy)
        return response
