"""Permissions-Policy on every response: the browser features in settings.PERMISSIONS_POLICY are off unless
a view asks for one (`@permissions_policy(geolocation=["self"])`), as Django's csp_override does for the CSP;
and the one widening of the CSP that two pages need (allow_style_attributes)."""

from functools import wraps

from django.conf import settings
from django.utils.csp import CSP

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


def with_style_attributes(response):
    """The CSP plus style attributes, for a page whose values no class can hold: the board's blocks at their
    minute of the day, a mail's inline styles in the preview (a srcdoc frame has its page's policy). A style
    attribute runs no script; inline <style> and every script stay refused."""
    response._csp_config = {**settings.SECURE_CSP, "style-src-attr": [CSP.UNSAFE_INLINE]}
    return response


def allow_style_attributes(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return with_style_attributes(view(request, *args, **kwargs))

    return wrapped


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
