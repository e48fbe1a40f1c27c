"""Inside the LMS: the learner's ``language`` is the platform's ``pref-lang``, and the email is composed in it."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from edx_ace.signals import ACE_MESSAGE_SENT
from openedx.core.djangoapps.dark_lang.models import DarkLangConfig
from openedx.core.djangoapps.lang_pref import LANGUAGE_KEY
from openedx.core.djangoapps.user_api.preferences.api import get_user_preference

from conftest import PASSWORD, learner_body, make_user
from rows import row_counts


@pytest.fixture(name="sent")
def fixture_sent():
    """The ACE messages delivered during the test (their name and language)."""
    messages = []

    def receiver(sender, message, **kwargs):  # pylint: disable=unused-argument
        messages.append((message["name"], message["message_language"]))

    ACE_MESSAGE_SENT.connect(receiver)
    yield messages
    ACE_MESSAGE_SENT.disconnect(receiver)


def learner(response):
    """The registered learner."""
    assert response.status_code == 200, response.content
    return get_user_model().objects.get(pk=response.json()["user_id"])


@pytest.mark.parametrize("password, message", [(None, "passwordreset"), (PASSWORD, "accountactivation")])
def test_the_language_is_the_learners_pref_lang_and_the_emails(alpha, alpha_admin, sent, password, message):
    registered = learner(alpha_admin.register(alpha, learner_body(language="es-419", password=password)))
    assert get_user_preference(registered, LANGUAGE_KEY) == "es-419"
    assert sent == [(message, "es-419")]


def test_without_a_language_the_learner_gets_what_the_platforms_registration_gives(alpha, alpha_admin):
    registered = learner(alpha_admin.register(alpha, learner_body()))
    assert get_user_preference(registered, LANGUAGE_KEY) == settings.LANGUAGE_CODE


@pytest.mark.parametrize("language", ["klingon", "es_419", "", "en-GB-oxendict"])
def test_a_language_the_lms_does_not_have_is_a_400_naming_language(alpha, alpha_admin, language):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(language=language))
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["language"]
    assert row_counts() == before


def test_where_dark_lang_is_on_only_released_languages_are_offered(alpha, alpha_admin):
    DarkLangConfig.objects.create(enabled=True, released_languages="es-419", changed_by=make_user("operator"))
    assert alpha_admin.register(alpha, learner_body(language="fr")).status_code == 400
    registered = learner(alpha_admin.register(alpha, learner_body(language="es-419")))
    assert get_user_preference(registered, LANGUAGE_KEY) == "es-419"
