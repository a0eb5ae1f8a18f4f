from django.conf import settings
from django.utils import translation
from django.utils.html import escape


def as_shown(message) -> str:
    """A message as the admin shows it to a user with the default language,
    whatever the translation says."""
    with translation.override(settings.LANGUAGE_CODE):
        return escape(str(message))
