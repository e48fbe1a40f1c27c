"""The learner's ``language``: one of the LMS's, kept as the learner's language; anything else a 400."""

import pytest
from django.test import override_settings

from devlms.models import LearnerProfile
from tahoe_registration_api import edxapp
from tahoe_registration_api.data import RegistrationRequest
from tests.conftest import learner_body
from tests.rows import row_counts


def language_of(response):
    """The language the development LMS kept for the registered learner."""
    assert response.status_code == 200, response.content
    return LearnerProfile.objects.get(user_id=response.json()["user_id"]).language


def test_a_language_of_the_lms_is_kept(alpha, alpha_admin):
    assert language_of(alpha_admin.register(alpha, learner_body(language="fr"))) == "fr"


def test_without_one_the_learner_gets_the_registering_requests_language(alpha, alpha_admin):
    assert language_of(alpha_admin.register(alpha, learner_body())) == "en"  # LANGUAGE_CODE, as the LMS's


@pytest.mark.parametrize("language", ["klingon", "FR ", "", 42, "x" * 17])
def test_anything_else_is_a_400_naming_language_and_nothing_is_written(alpha, alpha_admin, language):
    before = row_counts()
    response = alpha_admin.register(alpha, learner_body(language=language))
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["language"]
    assert row_counts() == before


def test_a_dry_run_checks_the_language(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(language="klingon"),
                                    url="/tahoe/api/v1/registrations/?dry_run=true")
    assert response.status_code == 400 and list(response.json()["field_errors"]) == ["language"]


# The adapter against the platform stand-ins

@pytest.mark.django_db
def test_the_adapter_offers_the_lms_languages_unless_dark_lang_limits_them(alpha):
    assert {"en", "fr", "es-419"} <= edxapp.language_choices(alpha.site)
    with override_settings(STANDIN_DARK_LANG={"enabled": True, "released": "es-419"}):
        assert edxapp.language_choices(alpha.site) == {"es-419", "en"}


@pytest.mark.django_db
@pytest.mark.parametrize("language, stored", [("es-419", "es-419"), (None, "en")])
def test_the_adapter_keeps_the_language_as_the_pref_lang_preference(alpha, language, stored):
    from openedx.core.djangoapps.user_api.models import UserPreference  # pylint: disable=import-outside-toplevel

    registration = RegistrationRequest(username="auserton", email="a@example.com", name="A U", language=language)
    account = edxapp.create_account(registration, alpha.site)
    assert UserPreference.objects.get(user=account.user, key="pref-lang").value == stored
