"""
The domain's reading of a learner (``learner_input``): the contract's examples, and parity with the old DRF serializer.

Until issue 18 the v1 serializer held the rules. A copy of it as it was (``OldSerializer``,
below, nowhere else) is the oracle: for thousands of bodies the domain, and the serializer that
now maps to it, must give the very field errors (names, order, messages) or the very request it gave.
"""

import ast
import re
import string
import sys
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.http import QueryDict
from django.test import override_settings
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework import serializers

from tahoe_registration_api import learner_input
from tahoe_registration_api.data import RegistrationRequest
from tahoe_registration_api.exceptions import InvalidRegistration
from tahoe_registration_api.features import feature
from tahoe_registration_api.i18n import user_text
from tahoe_registration_api.learner_input import parse_ref, parse_registration
from tahoe_registration_api.rest_api.errors import validation_field_errors
from tahoe_registration_api.rest_api.v1.serializers import RegistrationRequestSerializer

STRONG = "Str0ng-enough-pw"
ADA = {"username": "ada", "email": "ada@example.com", "name": "Ada Lovelace"}


def refusal(data):
    """Return the ``field_errors`` that ``parse_registration`` raises for ``data`` (failing if it accepts it)."""
    with pytest.raises(InvalidRegistration) as caught:
        parse_registration(data)
    return caught.value.field_errors


# The contract's examples -----------------------------------------------------------------------

def test_a_json_object_becomes_a_registration_request_with_the_defaults():
    assert parse_registration(ADA) == RegistrationRequest(
        username="ada", email="ada@example.com", name="Ada Lovelace", password=None,
        send_activation_email=True, language=None)


def test_a_csv_row_of_strings_is_read_as_a_json_object_is():
    row = {"username": " ada ", "email": " ada@example.com ", "name": "  Ada Lovelace ", "password": f" {STRONG} ",
           "send_activation_email": "False", "language": " fr ", "ref": "17"}
    assert parse_registration(row) == RegistrationRequest(
        username="ada", email="ada@example.com", name="Ada Lovelace", password=f" {STRONG} ",  # never trimmed
        send_activation_email=False, language="fr")
    assert parse_ref(row) == "17"


@pytest.mark.parametrize("spelling,wanted", [
    (True, True), (False, False), ("true", True), ("False", False), ("FALSE", False), (" tRuE ", True)])
def test_send_activation_email_is_a_boolean_or_its_string_in_any_case(spelling, wanted):
    assert parse_registration({**ADA, "send_activation_email": spelling}).send_activation_email is wanted


def test_unknown_fields_are_ignored():
    body = {**ADA, "title": "CTO", "is_staff": True, "company": {"name": "Acme"}, "ref": [1]}
    assert parse_registration(body) == parse_registration(ADA)


@pytest.mark.parametrize("data", [None, [ADA], "ada", 42])
def test_a_learner_that_is_not_an_object_is_refused_and_has_no_ref(data):
    with pytest.raises(InvalidRegistration) as caught:
        parse_registration(data)
    assert caught.value.field_errors == {"non_field_errors": "Each learner must be a JSON object."}
    assert parse_ref(data) is None


@pytest.mark.parametrize("password", [None, ""])
def test_a_null_or_empty_password_means_none(password):
    assert parse_registration({**ADA, "password": password}).password is None


BOOLEAN = 'Must be true or false (a JSON boolean or the string "true" or "false").'
ASCII_ONLY = "Usernames can only contain letters (A-Z, a-z), numerals (0-9), underscores (_), and hyphens (-)."


@pytest.mark.parametrize("field,value,message", [
    ("username", None, "This field may not be null."),
    ("username", "   ", "This field may not be blank."),
    ("username", 42, "Must be a string."),
    ("username", "a", "Ensure this field has at least 2 characters."),
    ("username", "a" * 31, "Ensure this field has no more than 30 characters."),
    ("username", "ada lovelace", ASCII_ONLY),
    ("username", "ada\u200b", "Must not contain invisible (format) characters such as zero-width spaces."),
    ("username", "ada\x00", "Must not contain control characters."),
    ("username", "é", ASCII_ONLY),  # the alphabet is checked first; the length only of a string that passes it
    ("email", "ada", "Enter a valid email address."),
    ("email", "@", "Enter a valid email address. Ensure this field has at least 3 characters."),
    ("email", ["ada@example.com"], "Must be a string."),
    ("email", "ada@example.com\t", "Must not contain control characters."),  # looked for before trimming
    ("name", "<b>Ada</b>", "Full Name cannot contain the following characters: < >"),
    ("name", "see https://example.com", "Enter a valid name"),
    ("name", "Ada \ud800", "Surrogate characters are not allowed: U+D800."),
    ("name", "n" * 256, "Ensure this field has no more than 255 characters."),
    ("password", "short", "This password is too short. It must contain at least 8 characters."),
    ("password", "password", "This password is too common."),
    ("password", 12345678, "Must be a string."),
    ("password", f"{STRONG}\x00", "Null characters are not allowed."),
    ("send_activation_email", "yes", BOOLEAN),
    ("send_activation_email", 1, BOOLEAN),
    ("send_activation_email", None, "This field may not be null."),
    ("language", True, "Not a valid string."),
    ("language", "", "This field may not be blank."),
    ("language", "x" * 17, "Ensure this field has no more than 16 characters."),
    ("language", "f\x00", "Null characters are not allowed."),
])
def test_each_field_s_rules(field, value, message):
    assert refusal({**ADA, field: value}) == {field: message}


def test_a_number_is_a_language_s_string_as_drf_took_it():
    assert parse_registration({**ADA, "language": 12}).language == "12"


def test_the_password_policy_applies_to_the_nfkc_normalised_password():
    assert refusal({**ADA, "password": "ＰＡＳＳＷＯＲＤ"}) == {"password": "This password is too common."}


def test_every_refused_field_is_named_at_once_in_the_field_order():
    with pytest.raises(InvalidRegistration) as caught:
        parse_registration({"username": "", "email": 3, "password": "x", "send_activation_email": "no",
                            "language": [], "title": None})
    error = caught.value
    assert list(error.field_errors) == ["username", "email", "name", "password", "send_activation_email", "language"]
    assert error.developer_message == (
        "Invalid fields: email, language, name, password, send_activation_email, username.")
    assert error.field_errors["name"] == "This field is required."
    assert error.field_errors["password"] == (
        "This password is too short. It must contain at least 8 characters. This password is too common.")


def test_the_username_settings_are_read_at_each_call():
    with override_settings(USERNAME_MAX_LENGTH=4):
        assert refusal({**ADA, "username": "adala"}) == {
            "username": "Ensure this field has no more than 4 characters."}
    assert parse_registration({**ADA, "username": "adala"}).username == "adala"
    with override_settings(FEATURES={**settings.FEATURES, "ENABLE_UNICODE_USERNAME": True}):
        assert parse_registration({**ADA, "username": "Ада"}).username == "Ада"
        with override_settings(USERNAME_REGEX_PARTIAL=r"[a-z]+"):
            assert list(refusal({**ADA, "username": "Ада"})) == ["username"]
    assert refusal({**ADA, "username": "Ада"}) == {"username": ASCII_ONLY}


@pytest.mark.parametrize("ref,read", [(None, None), ("crm-1", "crm-1"), (42, "42"), ("", ""), ("r" * 255, "r" * 255)])
def test_a_ref_is_a_short_string_or_whole_number(ref, read):
    assert parse_ref({"ref": ref}) == read
    assert parse_ref({}) is None


@pytest.mark.parametrize("ref", [True, 1.5, ["a"], {"a": 1}, "r" * 256, 10 ** 256])
def test_any_other_ref_is_refused_naming_it(ref):
    with pytest.raises(InvalidRegistration) as caught:
        parse_ref({"ref": ref})
    assert caught.value.field_errors == {"ref": "Must be a string (or a number) of at most 255 characters."}


def test_the_password_is_in_no_message_nor_repr():
    secret = "ＰＡＳＳＷＯＲＤ\x00"
    with pytest.raises(InvalidRegistration) as caught:
        parse_registration({**ADA, "password": secret, "name": None})
    assert not {secret, unicodedata.normalize("NFKC", secret)} & {
        str(caught.value), repr(caught.value), *caught.value.field_errors.values()}
    assert STRONG not in repr(parse_registration({**ADA, "password": STRONG}))


def test_the_module_imports_nothing_from_drf_or_the_rest_api():
    tree = ast.parse(Path(learner_input.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    plugin = {f"tahoe_registration_api.{name}" for name in ("data", "exceptions", "features", "i18n")}
    # edx-opaque-keys reads course keys (a dependency of the package, as Django is).
    others = {name for name in imported - plugin
              if name.split(".")[0] not in sys.stdlib_module_names | {"django", "opaque_keys"}}
    assert not others


# The oracle: the v1 serializer as it was on main before issue 18, kept only here -----------------
# pylint: disable=missing-class-docstring,abstract-method

OLD_NAME_HTML, OLD_NAME_URL = re.compile(r"[<>]"), re.compile(r"://")
OLD_ASCII_USERNAME = re.compile(r"^[-a-zA-Z0-9_]+\Z")


class OldStrictCharField(serializers.CharField):
    default_error_messages = {
        "invalid": "Must be a string.",
        "Cc": "Must not contain control characters.",
        "Cf": "Must not contain invisible (format) characters such as zero-width spaces.",
    }

    def __init__(self, *, forbidden_categories=("Cc",), **kwargs):
        self.forbidden_categories = tuple(forbidden_categories)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        for category in self.forbidden_categories:
            if any(unicodedata.category(char) == category for char in data):
                self.fail(category)
        return super().to_internal_value(data)


class OldNameField(OldStrictCharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if OLD_NAME_HTML.search(value):
            raise serializers.ValidationError("Full Name cannot contain the following characters: < >")
        if OLD_NAME_URL.search(value):
            raise serializers.ValidationError("Enter a valid name")
        return value


class OldLenientBooleanField(serializers.Field):
    default_error_messages = {"invalid": BOOLEAN}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        spelling = data.strip().lower() if isinstance(data, str) else None
        if spelling in ("true", "false"):
            return spelling == "true"
        self.fail("invalid")
        return None

    def to_representation(self, value):
        return bool(value)


class OldUsernameField(OldStrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", getattr(settings, "USERNAME_MAX_LENGTH", 30))
        kwargs.setdefault("min_length", 2)
        super().__init__(forbidden_categories=("Cc", "Cf"), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if feature("ENABLE_UNICODE_USERNAME"):
            partial = getattr(settings, "USERNAME_REGEX_PARTIAL", r"[\w .@_+-]+")
            pattern = re.compile(rf"^{partial}\Z", re.UNICODE)
            message = "Usernames can only contain letters, numerals, and @/./+/-/_ characters."
        else:
            pattern, message = OLD_ASCII_USERNAME, ASCII_ONLY
        if not pattern.match(value):
            raise serializers.ValidationError(message)
        return value


class OldEmailField(OldStrictCharField):
    def __init__(self, **kwargs):
        super().__init__(
            min_length=3, max_length=254, forbidden_categories=("Cc", "Cf"),
            validators=[EmailValidator(message="Enter a valid email address.")], **kwargs,
        )


class OldPasswordField(OldStrictCharField):
    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, allow_null=True, trim_whitespace=False,
                         max_length=5000, forbidden_categories=(), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            password_validation.validate_password(unicodedata.normalize("NFKC", value))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from exc
        return value


class OldSerializer(serializers.Serializer):
    username = OldUsernameField()
    email = OldEmailField()
    name = OldNameField(max_length=255)
    password = OldPasswordField()
    send_activation_email = OldLenientBooleanField(required=False, default=True)
    language = serializers.CharField(required=False, allow_null=True, max_length=16)

    def get_fields(self):
        fields = super().get_fields()
        fields["username"] = OldUsernameField()
        return fields

    @staticmethod
    def registration_from(data):
        return RegistrationRequest(
            username=data["username"], email=data["email"], name=data["name"], password=data.get("password") or None,
            send_activation_email=data["send_activation_email"], language=data.get("language"),
        )

# pylint: enable=missing-class-docstring,abstract-method


# Parity -----------------------------------------------------------------------------------------

def old_answer(body):
    """What the old serializer made of a body: the request, or the field errors as the API answered them."""
    serializer = OldSerializer(data=body)
    if serializer.is_valid():
        return OldSerializer.registration_from(serializer.validated_data)
    return list(validation_field_errors(serializer.errors).items())


def domain_answer(body):
    """What ``parse_registration`` makes of a body, in the same shape."""
    try:
        return parse_registration(body)
    except InvalidRegistration as error:
        return list(error.field_errors.items())


def translated(answer):
    """The field errors of an answer as the caller reads them (``user_message``: in the active language)."""
    return [(field, user_text(message)) for field, message in answer] if isinstance(answer, list) else answer


def serializer_answer(body):
    """What the v1 serializer (now mapping to the domain) makes of a body, in the same shape."""
    serializer = RegistrationRequestSerializer(data=body)
    if serializer.is_valid():
        return serializer.to_registration()
    return list(validation_field_errors(serializer.errors).items())


SETTINGS_VARIANTS = [
    {},
    {"USERNAME_MAX_LENGTH": 5},
    {"USERNAME_MAX_LENGTH": 40, "FEATURES": {"ENABLE_UNICODE_USERNAME": True}},
    {"ENABLE_UNICODE_USERNAME": True},  # Ulmo's top-level flag
    {"ENABLE_UNICODE_USERNAME": True, "USERNAME_REGEX_PARTIAL": r".+"},  # lets surrogates reach DRF's validator
    {"FEATURES": {"ENABLE_UNICODE_USERNAME": False}},
]
EDGE_STRINGS = [
    "", " ", "\t\n ", "\x00", "a\x00b", " \x00 ", "\x1f", "\x85", "\u2028", "\u200b", "a\u200db", "\ufeffab",
    "ada\t", "\nada@example.com", "Ada Lovelace\r\n", "fr\x85", " \u200bada ",  # trimmed, but looked at before
    "\ud800", "ab\udfff", "é\ud83d", "Ａｌｅｘ", "ǅ", "ß", "İ", "Ада", "ab", "a", "a" * 30, "a" * 31, "a" * 41,
    "<b>", "http://x", "a://b", "true", "False", " TRUE ", "yes", "1", "null", "fr", "zh-hans", "x" * 17,
    "x@y", "a@b.co", " a@b.co ", "a@localhost", "é@example.com", "a@[127.0.0.1]", '"a b"@example.com',
    "a" * 250 + "@b.co", "password", "ＰＡＳＳＷＯＲＤ", STRONG, f" {STRONG} ", f"{STRONG}\x00", f"{STRONG}\ud800",
    "n" * 255, "n" * 256, "p" * 5001, "Str0ng" * 900,
]
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from([0, 1, 1.5, -3])
texts = st.one_of(
    st.sampled_from(EDGE_STRINGS),
    st.text(max_size=12),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zs", "Zl", "Zp"]), max_size=6),
    st.text(alphabet=string.ascii_letters + string.digits + "_-.@+ ", min_size=1, max_size=35),
    st.emails().map(lambda email: f" {email} "),
    st.text(min_size=4990, max_size=5010),
)
json_values = st.recursive(scalars | texts, lambda children: st.lists(children, max_size=2)
                           | st.dictionaries(st.text(max_size=3), children, max_size=2), max_leaves=4)
valid = {
    "username": st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=2, max_size=30),
    "email": st.emails(),
    "name": st.text(alphabet=st.characters(categories=["L", "M", "N", "Zs", "Pd"]), min_size=1, max_size=40),
    "password": st.text(min_size=8, max_size=30),
    "send_activation_email": st.booleans() | st.sampled_from(["true", "False", " TRUE "]),
    "language": st.sampled_from(["en", "fr", "zh-hans", " de "]),
}
DROP = object()  # a mutation that removes the field


@st.composite
def bodies(draw):
    """A valid body (optional fields or not) with up to four fields replaced by anything, or removed."""
    body = draw(st.fixed_dictionaries({field: valid[field] for field in ("username", "email", "name")},
                                      optional={field: valid[field] for field in learner_input.FIELDS[3:]}))
    changes = draw(st.dictionaries(st.sampled_from([*learner_input.FIELDS, "ref", "title"]),
                                   texts | json_values | st.just(DROP), max_size=4))
    body.update(changes)
    return {field: value for field, value in body.items() if value is not DROP}


PARITY = hypothesis_settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))


def assert_parity(body, variant):
    """The domain and the mapping serializer answer ``body`` exactly as the old serializer did."""
    with override_settings(**{**variant, "FEATURES": {**settings.FEATURES, **variant.get("FEATURES", {})}}):
        expected = old_answer(body)
        assert domain_answer(body) == expected
        assert serializer_answer(body) == expected


@PARITY
@given(body=bodies(), variant=st.sampled_from(SETTINGS_VARIANTS))
def test_parity_with_the_old_serializer_on_generated_bodies(body, variant):
    assert_parity(body, variant)


@pytest.mark.parametrize("variant", SETTINGS_VARIANTS)
@pytest.mark.parametrize("field", learner_input.FIELDS)
def test_parity_with_the_old_serializer_on_each_edge_case(field, variant):
    for value in [*EDGE_STRINGS, None, True, False, 0, 7, 1.5, -2.0, 10 ** 30, [], ["a"], {}]:
        assert_parity({**ADA, "password": STRONG, field: value}, variant)


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_parity_holds_in_the_caller_s_language(language):
    with translation.override(language):
        for body in ({}, {"username": None, "email": " ", "name": "n" * 256, "password": "abc", "language": "x" * 17},
                     {**ADA, "name": "\ud800", "password": f"{STRONG}\x00", "language": False}):
            # The domain's messages are English (the developer's), each with its translation (the user's).
            assert translated(domain_answer(body)) == old_answer(body)
        assert dict(translated(domain_answer({})))["username"] != "This field is required."  # DRF's catalog did


@hypothesis_settings(PARITY, max_examples=300)
@given(form=st.dictionaries(st.sampled_from([*learner_input.FIELDS, "title"]),
                            st.lists(valid["username"] | st.sampled_from(EDGE_STRINGS), min_size=1, max_size=2)))
def test_parity_of_form_encoded_bodies(form):
    body = QueryDict(mutable=True)
    for field, values in form.items():
        body.setlist(field, values)
    assert serializer_answer(body) == old_answer(body)


@pytest.mark.parametrize("body", [None, [], [ADA], "text", 42, True])
def test_parity_of_bodies_that_are_not_objects(body):
    assert serializer_answer(body) == old_answer(body)
