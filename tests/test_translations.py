"""
Translations on the development LMS: the request's language for people, English for developers.

A caller asking for Latin-American Spanish (``Accept-Language: es-419``) reads every
``user_message`` in Spanish while ``developer_message`` stays English; a caller asking for
nothing, or for a language the LMS does not have, reads English. A learner's emails are in the
learner's language; the token page in the admin's. The catalogues are complete and compiled.
"""

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tahoe_registration_api.i18n import Message, english_of, join, message, user_text
from tests.conftest import Caller, learner_body, make_user
from tests.scim import USERS, bearer, okta_user, scim

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-419"}
ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [ROOT / "tahoe_registration_api" / "locale", ROOT / "devlms" / "locale"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+(?::[A-Za-z]+)?\}")


def refused_body(response, status):
    assert response.status_code == status, response.content
    return response.json()


def test_a_validation_error_is_in_spanish_for_the_user_and_in_english_for_the_developer(alpha, alpha_admin):
    body = refused_body(alpha_admin.register(alpha, learner_body(email="nope", send_activation_email="maybe"),
                                             **SPANISH), 400)
    assert body["error_code"] == "validation-error"
    assert body["user_message"] == "Algunos de los datos del registro no son válidos."
    assert body["developer_message"] == "Invalid fields: email, send_activation_email."
    assert body["field_errors"]["send_activation_email"] == {
        "user_message": 'Debe ser verdadero o falso (un booleano JSON o la cadena "true" o "false").',
        "developer_message": 'Must be true or false (a JSON boolean or the string "true" or "false").',
    }
    assert body["field_errors"]["email"] == {
        "user_message": "Ingrese una dirección de correo electrónico válida.",
        "developer_message": "Enter a valid email address.",
    }


def test_a_message_with_a_placeholder_is_filled_after_its_translation(alpha, alpha_admin):
    body = refused_body(alpha_admin.register(alpha, learner_body(username="u" * 31), **SPANISH), 400)
    assert body["field_errors"]["username"] == {
        "user_message": "Asegúrese de que este campo no tenga más de 30 caracteres.",
        "developer_message": "Ensure this field has no more than 30 characters.",
    }


def test_several_messages_of_one_field_are_each_translated(alpha, alpha_admin):
    body = refused_body(alpha_admin.register(alpha, learner_body(email="a@"), **SPANISH), 400)
    assert body["field_errors"]["email"] == {
        "user_message": "Ingrese una dirección de correo electrónico válida. "
                        "Asegúrese de que este campo tenga al menos 3 caracteres.",
        "developer_message": "Enter a valid email address. Ensure this field has at least 3 characters.",
    }


def test_a_409_is_in_spanish_for_the_user_and_in_english_for_the_developer(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body()).status_code == 200
    body = refused_body(alpha_admin.register(alpha, learner_body(), **SPANISH), 409)
    assert body["error_code"] == "duplicate-email-username"
    assert body["user_message"] == "Ya existe una cuenta con estos datos."
    assert body["developer_message"] == "Conflicting fields: email, username."
    assert body["field_errors"] == {
        "email": {"user_message": "Ya existe una cuenta con esta dirección de correo electrónico.",
                  "developer_message": "An account with this email address already exists."},
        "username": {"user_message": "Este nombre de usuario ya está en uso.",
                     "developer_message": "This username is already taken."},
    }


def test_a_refusal_by_django_rest_framework_keeps_its_developer_message_in_english(alpha, anonymous):
    body = refused_body(anonymous.register(alpha, learner_body(), **SPANISH), 401)
    assert body["user_message"] == "No se proporcionaron las credenciales de autenticación."
    assert body["developer_message"] == "Authentication credentials were not provided."


def test_a_detail_django_rest_framework_translated_as_it_raised_is_english_for_the_developer(alpha):
    body = refused_body(Caller(token="0" * 40).register(alpha, learner_body(), **SPANISH), 401)
    assert body["user_message"] == "Las credenciales no son válidas."
    assert body["developer_message"] == "Invalid token."


def test_a_body_that_is_not_an_object_is_refused_in_both_languages(alpha, alpha_admin):
    body = refused_body(alpha_admin.register(alpha, [1], **SPANISH), 400)
    assert body["developer_message"] == "Invalid fields: non_field_errors."
    assert body["field_errors"]["non_field_errors"] == {
        "user_message": "Datos no válidos. Se esperaba un diccionario, pero se recibió list.",
        "developer_message": "Invalid data. Expected a dictionary, but got list.",
    }


def test_a_method_not_allowed_keeps_its_developer_message_in_english(alpha, alpha_admin):
    response = alpha_admin.client.put("/tahoe/api/v1/registrations/", {}, format="json", HTTP_HOST=alpha.domain,
                                      **SPANISH)
    body = refused_body(response, 405)
    assert body["user_message"] == "Este método no está permitido aquí; el encabezado Allow indica los que sí lo están."
    assert body["developer_message"] == 'Method "PUT" not allowed.'


def test_an_error_of_a_bulk_call_is_in_spanish(alpha, alpha_admin):
    response = alpha_admin.register(alpha, {"learners": []}, url="/tahoe/api/v1/registrations/bulk/", **SPANISH)
    body = refused_body(response, 400)
    assert body["field_errors"]["learners"] == {"user_message": "Debe contener al menos un estudiante.",
                                                "developer_message": "Must hold at least one learner."}


@pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT_LANGUAGE": "tlh"}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"},
                                     {"HTTP_ACCEPT_LANGUAGE": ";;q=x,\x7f"}])
def test_without_a_language_the_lms_has_the_messages_are_english(alpha, alpha_admin, headers):
    body = refused_body(alpha_admin.register(alpha, learner_body(send_activation_email="maybe"), **headers), 400)
    assert body["user_message"] == "Some of the registration details are not valid."
    assert body["field_errors"]["send_activation_email"]["user_message"] == (
        'Must be true or false (a JSON boolean or the string "true" or "false").')


def test_the_learner_s_language_picks_the_language_of_their_email(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(password="Str0ng-enough-pw", language="es-419"))
    assert response.status_code == 200, response.content
    assert [email.subject for email in mail.outbox] == ["Acción requerida: active su cuenta"]
    assert mail.outbox[0].body.startswith("Hola, Alex Userton:\n\nActive su cuenta: http://alpha.localhost/activate/")


def test_the_learner_s_language_wins_over_the_request_s(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(language="en"), **SPANISH)
    assert response.status_code == 200, response.content
    assert [email.subject for email in mail.outbox] == ["Password reset"]
    assert mail.outbox[0].body.startswith("Hello Alex Userton,\n\nSet your password: ")


def test_a_learner_without_a_language_gets_the_one_of_the_registering_request(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(), **SPANISH)
    assert response.status_code == 200, response.content
    assert [email.subject for email in mail.outbox] == ["Restablecer contraseña"]
    assert "Establezca su contraseña: " in mail.outbox[0].body


def test_the_token_page_is_in_the_admin_s_language(alpha):
    client = Client()
    client.force_login(make_user("page_admin", alpha, is_admin=True))
    page = client.get("/tahoe/api/token/", HTTP_HOST=alpha.domain, **SPANISH).content.decode()
    assert '<html lang="es-419">' in page
    assert "<title>Token de API de alpha.localhost</title>" in page
    assert "<h1>API de registro de alpha.localhost</h1>" in page
    assert "No tiene ningún token. Cree uno para conectar un sistema" in page
    assert ">Crear un token</button>" in page
    assert "Empieza con https:// e indica una dirección pública" in page
    assert "Your API token" not in page and "Create a token" not in page
    english = client.get("/tahoe/api/token/", HTTP_HOST=alpha.domain).content.decode()
    assert "<h1>Registration API of alpha.localhost</h1>" in english and ">Create a token</button>" in english


def test_the_token_page_s_messages_and_refused_webhook_form_are_in_spanish(alpha):
    client = Client()
    client.force_login(make_user("page_admin", alpha, is_admin=True))
    created = client.post("/tahoe/api/token/create/", HTTP_HOST=alpha.domain, **SPANISH).content.decode()
    assert "Se creó su token." in created and "Copiar la clave" in created
    assert 'data-copied="La clave se copió al portapapeles."' in created
    refused = client.post("/tahoe/api/token/webhooks/create/",
                          {"url": "ftp://example.com/", "events": ["learner.updated"]},
                          HTTP_HOST=alpha.domain, **SPANISH)
    assert refused.status_code == 400
    assert "La URL debe empezar con https://." in refused.content.decode()


def test_a_scim_error_stays_english_for_the_identity_provider(alpha, alpha_admin):
    provider = bearer(alpha_admin)
    assert scim(provider, alpha, "POST", USERS, okta_user()).status_code == 201
    again = okta_user(userName="TEST.USER@okta.local", emails=[{"value": "other@example.com"}])
    response = scim(provider, alpha, "POST", USERS, again, **SPANISH)
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == "userName: Another User of this site has this userName."


# The messages themselves

def test_a_message_is_english_text_that_carries_its_translation():
    from django.utils import translation  # pylint: disable=import-outside-toplevel

    with translation.override("es-419"):
        refusal = message("Holds {count} courses; at most {limit} are accepted.", count=21, limit=20)
        both = join([refusal, "This field is required."])
    assert isinstance(refusal, Message) and refusal == "Holds 21 courses; at most 20 are accepted."
    assert refusal.translated == "Contiene 21 cursos; se aceptan como máximo 20."
    assert both == "Holds 21 courses; at most 20 are accepted. This field is required."
    assert both.translated == "Contiene 21 cursos; se aceptan como máximo 20. Este campo es obligatorio."
    with translation.override("es-419"):
        assert user_text("There is no such learner on this site.") == "No existe ese estudiante en este sitio."
        assert user_text("A text no catalogue has.") == "A text no catalogue has."
        assert user_text("") == ""
        assert english_of("Token inválido.") == "Invalid token."  # Django REST framework's Spanish
        assert english_of("Nada que un catálogo diga.") == "Nada que un catálogo diga."


# The catalogues

def catalogue_files():
    """Each translated catalogue (.po) of the product, with its compiled (.mo) twin."""
    files = [path for root in CATALOGUES for path in sorted(root.glob("*/LC_MESSAGES/*.po"))
             if path.parts[-3] != "en"]
    assert files, "no translated catalogue"
    return files


@pytest.mark.parametrize("po_path", catalogue_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_message_of_a_catalogue_is_translated_and_keeps_its_placeholders(po_path):
    catalogue = polib.pofile(str(po_path))
    source = polib.pofile(str(po_path.parent.parent.parent / "en" / "LC_MESSAGES" / po_path.name))
    assert {(entry.msgctxt, entry.msgid) for entry in catalogue if not entry.obsolete} == {
        (entry.msgctxt, entry.msgid) for entry in source}, "the catalogue does not hold exactly the source's messages"
    for entry in catalogue:
        assert not entry.obsolete and "fuzzy" not in entry.flags, entry.msgid
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        assert all(text.strip() for text in translations), f"untranslated: {entry.msgid!r}"
        singular, plural = set(PLACEHOLDER.findall(entry.msgid)), set(PLACEHOLDER.findall(entry.msgid_plural or ""))
        if not entry.msgid_plural:
            assert set(PLACEHOLDER.findall(entry.msgstr)) == singular, f"placeholders differ: {entry.msgid!r}"
            continue
        # A plural's forms may leave out its count (the singular's "1"), and hold nothing else.
        for text in translations:
            assert set(PLACEHOLDER.findall(text)) <= singular | plural, f"a placeholder too many: {text!r}"
        assert set(PLACEHOLDER.findall(translations[-1])) == plural, f"placeholders differ: {entry.msgid_plural!r}"


@pytest.mark.parametrize("po_path", catalogue_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_compiled_catalogue_is_that_of_its_po_file(po_path, tmp_path):
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    source = polib.pofile(str(po_path))

    def messages(catalogue):
        return {(entry.msgctxt, entry.msgid): (entry.msgstr, tuple(sorted(entry.msgstr_plural.items())))
                for entry in catalogue if entry.msgid and not entry.obsolete}

    assert messages(compiled) == messages(source), "the .mo is not compiled from the .po: run make compile_translations"
    if shutil.which("msgfmt"):  # gettext's own checks (format strings, headers), as compilemessages runs it
        subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "check.mo"), str(po_path)], check=True)


# Any header a client may send: language tags, weights, junk, separators and characters outside ASCII.
ACCEPT_LANGUAGE = st.lists(st.sampled_from(["es-419", "es", "en", "fr", "tlh", "*", "q=", "0.5", "es_419", "x" * 40])
                           | st.text(max_size=12), max_size=6).map(";,".join)


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=ACCEPT_LANGUAGE)
def test_any_accept_language_gets_a_json_error_in_english_or_spanish(alpha, alpha_admin, header):
    response = alpha_admin.register(alpha, learner_body(send_activation_email="maybe"), HTTP_ACCEPT_LANGUAGE=header)
    body = refused_body(response, 400)
    assert body["user_message"] in ("Some of the registration details are not valid.",
                                    "Algunos de los datos del registro no son válidos.")
    assert body["developer_message"] == "Invalid fields: send_activation_email."


@pytest.mark.parametrize("rate, url, body, expected", [
    ("TAHOE_REGISTRATION_API_RATE", "/tahoe/api/v1/registrations/", None,
     r"Request was throttled\. Expected available in \d+ seconds?\."),
    ("TAHOE_REGISTRATION_API_BULK_LEARNER_RATE", "/tahoe/api/v1/registrations/bulk/", "bulk",
     r"This request has 2 learners; 1 of the 1 learners per 3600 s remain .*\. Expected available in \d+ seconds?\."),
])
def test_a_429_is_in_spanish_for_the_user_and_in_english_for_the_developer(
    alpha, alpha_admin, settings, rate, url, body, expected
):
    setattr(settings, rate, "1/m" if body is None else "1/h")
    learners = [learner_body(username=f"ada{number}", email=f"ada{number}@example.com") for number in range(2)]
    payload = learners[0] if body is None else {"learners": learners}
    if body is None:
        assert alpha_admin.register(alpha, learners[1], url=url).status_code == 200  # the minute's one call
    refused = refused_body(alpha_admin.register(alpha, payload, url=url, **SPANISH), 429)
    assert refused["error_code"] == "rate-limited"
    assert refused["user_message"] != "Too many requests; retry later."  # translated
    assert re.fullmatch(expected, refused["developer_message"]), refused["developer_message"]
