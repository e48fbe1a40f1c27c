"""
Inside the LMS: a caller asking for Latin-American Spanish reads the plugin's messages in Spanish,
a learner whose language is es-419 gets the platform's own email in Spanish.

The plugin's catalogue is the one its package ships; the platform's Spanish is the small
stand-in catalogue of platform_tests/locale (see lms_settings.py: an operator's image gets the
platform's from openedx-translations). What the LMS answered is written to var/translations/.
"""

import json
from pathlib import Path

from django.core import mail
from django.test import Client

from conftest import BRANDS, PASSWORD, learner_body, make_user

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-419"}
CAPTURED = Path(__file__).resolve().parent.parent / "var" / "translations"


def keep(name, text):
    """Write what the LMS answered to var/translations/ (a record of this run, for people to read)."""
    CAPTURED.mkdir(parents=True, exist_ok=True)
    (CAPTURED / name).write_text(text, encoding="utf-8")


def test_a_validation_error_is_in_spanish_for_the_user_and_in_english_for_the_developer(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(email="nope", send_activation_email="maybe"), **SPANISH)
    assert response.status_code == 400, response.content
    body = response.json()
    keep("platform-400-es-419.json", json.dumps(body, ensure_ascii=False, indent=2))
    assert response["Content-Language"] == "es-419"
    assert body["error_code"] == "validation-error"
    assert body["user_message"] == "Algunos de los datos del registro no son válidos."
    assert body["developer_message"] == "Invalid fields: email, send_activation_email."
    assert body["field_errors"]["send_activation_email"] == {
        "user_message": 'Debe ser verdadero o falso (un booleano JSON o la cadena "true" o "false").',
        "developer_message": 'Must be true or false (a JSON boolean or the string "true" or "false").',
    }
    assert body["field_errors"]["email"] == {"user_message": "Ingrese una dirección de correo electrónico válida.",
                                             "developer_message": "Enter a valid email address."}


def test_a_409_is_in_spanish_for_the_user_and_in_english_for_the_developer(alpha, alpha_admin):
    assert alpha_admin.register(alpha, learner_body(password=PASSWORD)).status_code == 200
    response = alpha_admin.register(alpha, learner_body(), **SPANISH)
    assert response.status_code == 409, response.content
    body = response.json()
    keep("platform-409-es-419.json", json.dumps(body, ensure_ascii=False, indent=2))
    assert body["user_message"] == "Ya existe una cuenta con estos datos."
    assert body["developer_message"] == "Conflicting fields: email, username."
    assert body["field_errors"]["username"] == {"user_message": "Este nombre de usuario ya está en uso.",
                                                "developer_message": "This username is already taken."}


def test_without_accept_language_the_messages_are_english(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(send_activation_email="maybe"))
    assert response.status_code == 400, response.content
    assert response.json()["user_message"] == "Some of the registration details are not valid."
    assert response.json()["field_errors"]["send_activation_email"]["user_message"] == (
        'Must be true or false (a JSON boolean or the string "true" or "false").')


def test_a_learner_whose_language_is_es_419_gets_the_platforms_activation_email_in_spanish(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, language="es-419"))
    assert response.status_code == 200, response.content
    (message,) = mail.outbox
    keep("platform-activation-email-es-419.txt", f"Subject: {message.subject}\n\n{message.body}")
    name = BRANDS["alpha"]["PLATFORM_NAME"]
    assert message.subject == f"Acción requerida: active su cuenta de {name}"
    assert message.body.lstrip().startswith("¡Ya casi termina! Use el siguiente enlace para activar su cuenta")
    assert f"Disfrute aprendiendo con {name}." in message.body
    assert "/activate/" in message.body


def test_a_learner_whose_language_is_english_gets_it_in_english_whatever_the_request_asks(alpha, alpha_admin):
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD, language="en"), **SPANISH)
    assert response.status_code == 200, response.content
    (message,) = mail.outbox
    assert message.subject == f"Action Required: Activate your {BRANDS['alpha']['PLATFORM_NAME']} account"


def test_the_token_page_is_in_the_admins_language_inside_the_lms(alpha):
    make_user("page_admin", alpha, is_admin=True)
    client = Client()
    assert client.login(username="page_admin", password=PASSWORD)
    response = client.get("/tahoe/api/token/", HTTP_HOST=alpha.domain, **SPANISH)
    assert response.status_code == 200
    page = response.content.decode()
    assert "API de registro de alpha.localhost" in page
    assert "No tiene ningún token." in page and "Crear un token" in page
    assert "Create a token" not in page
