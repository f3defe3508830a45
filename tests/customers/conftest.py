import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in another language leaves it active in the thread; the next test expects the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)
