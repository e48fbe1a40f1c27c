"""
SCIM 2.0 (``/tahoe/scim/v2/``): what an identity provider sees and does, read as RFC 7643/7644's examples.

Discovery, the credentials, creating a learner through the registration pipeline, finding them with
a filter, paging, replacing, patching and deleting them, and what each refusal says. The request
sequences of Okta and Microsoft Entra ID are ``test_scim_providers.py``'s; scim2-tester's report is
``test_scim_compliance.py``'s.
"""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core import mail
from tahoe_sites.models import UserOrganizationMapping

from devlms.models import LearnerProfile, PasswordToggleHistory
from tahoe_registration_api.models import AuditEntry, ScimIdentity
from tahoe_registration_api.scim.users import username_candidates
from tests.conftest import Caller, learner_body, make_user
from tests.hostile import written
from tests.scim import (
    LIST_RESPONSE,
    MEDIA_TYPE,
    PASSWORD,
    SCIM,
    USER_SCHEMA,
    USERS,
    assert_scim_error,
    bearer,
    okta_user,
    patch_op,
    scim,
    user_url,
)

User = get_user_model()


@pytest.fixture
def provider(alpha_admin):
    """Alpha's identity provider: alpha's admin token, sent as Bearer."""
    return bearer(alpha_admin)


def create(provider, site, body):
    """POST a User; assert it was created; return the answer."""
    response = scim(provider, site, "POST", USERS, body)
    assert response.status_code == 201, response.content
    return response.json()


def found(provider, site, query):
    """Return the ids a GET /Users?<query> lists."""
    response = scim(provider, site, "GET", f"{USERS}?{query}")
    assert response.status_code == 200, response.content
    return [resource["id"] for resource in response.json()["Resources"]]


# Discovery

def test_the_service_provider_config_says_what_is_supported(alpha, provider):
    response = scim(provider, alpha, "GET", f"{SCIM}ServiceProviderConfig")
    assert response.status_code == 200 and response["Content-Type"] == MEDIA_TYPE
    config = response.json()
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 500}
    assert (config["bulk"]["supported"], config["changePassword"], config["sort"], config["etag"]) == (
        False, {"supported": True}, {"supported": False}, {"supported": False})
    assert [scheme["type"] for scheme in config["authenticationSchemes"]] == ["oauthbearertoken"]


def test_the_resource_types_and_schemas_describe_the_user(alpha, provider):
    types = scim(provider, alpha, "GET", f"{SCIM}ResourceTypes").json()
    assert types["schemas"] == [LIST_RESPONSE] and types["totalResults"] == 1
    [user_type] = types["Resources"]
    assert (user_type["id"], user_type["endpoint"], user_type["schema"]) == ("User", "/Users", USER_SCHEMA)
    assert scim(provider, alpha, "GET", f"{SCIM}ResourceTypes/User").json() == user_type
    schemas = scim(provider, alpha, "GET", f"{SCIM}Schemas").json()["Resources"]
    assert [schema["name"] for schema in schemas] == ["User", "Schema", "ResourceType", "ServiceProviderConfig"]
    user_schema = scim(provider, alpha, "GET", f"{SCIM}Schemas/{USER_SCHEMA}").json()
    attributes = {attribute["name"]: attribute for attribute in user_schema["attributes"]}
    assert list(attributes) == ["userName", "name", "displayName", "emails", "active", "password", "externalId"]
    assert attributes["userName"]["required"] and attributes["userName"]["uniqueness"] == "server"
    assert attributes["emails"]["required"] and attributes["externalId"]["caseExact"]
    assert (attributes["password"]["mutability"], attributes["password"]["returned"]) == ("writeOnly", "never")


@pytest.mark.parametrize("path", ["ServiceProviderConfig", "ResourceTypes", "Schemas", "ResourceTypes/User"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_discovery_is_read_only(alpha, provider, path, method):
    assert_scim_error(scim(provider, alpha, method, f"{SCIM}{path}", {}), 405)


@pytest.mark.parametrize("path", ["", "Groups", "Users/abc", "Users/0", "Users/99999999999999999999999", "Users/%D9%A1",
                                  "ResourceTypes/Group", "Schemas/urn:nothing", "Users/1/x"])
def test_an_unknown_address_is_a_scim_404(alpha, provider, path):
    assert_scim_error(scim(provider, alpha, "GET", f"{SCIM}{path}"), 404)


def test_an_id_in_other_digits_is_no_id(alpha, provider):
    user_id = create(provider, alpha, okta_user())["id"]
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in user_id)  # "2" is "٢"
    assert_scim_error(scim(provider, alpha, "GET", user_url(arabic_indic)), 404)
    assert scim(provider, alpha, "GET", user_url(user_id)).status_code == 200


# Credentials

def test_without_credentials_a_scim_401_names_bearer(alpha):
    response = scim(Caller(), alpha, "GET", USERS)
    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_unknown_bearer_token_is_a_401(alpha, alpha_admin):
    alpha_admin.client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert_scim_error(scim(alpha_admin, alpha, "GET", USERS), 401)


def test_another_sites_admin_and_a_learner_are_refused(alpha, beta, beta_admin, alpha_learner):
    assert_scim_error(scim(bearer(beta_admin), alpha, "GET", USERS), 403)
    assert_scim_error(scim(bearer(alpha_learner), alpha, "POST", USERS, okta_user()), 403)
    assert not ScimIdentity.objects.exists()


def test_the_documented_token_scheme_works_too(alpha, alpha_admin):
    assert scim(alpha_admin, alpha, "GET", USERS).status_code == 200  # Authorization: Token <token>


def test_over_the_rate_limit_a_scim_429_says_when_to_retry(alpha, provider, settings):
    settings.TAHOE_REGISTRATION_API_SCIM_RATE = "2/m"
    assert [scim(provider, alpha, "GET", USERS).status_code for _ in range(2)] == [200, 200]
    response = scim(provider, alpha, "GET", USERS)
    assert_scim_error(response, 429)
    assert int(response["Retry-After"]) > 0


# Create

def test_a_user_is_registered_through_the_pipeline(alpha, provider):
    user = create(provider, alpha, okta_user())
    learner = User.objects.get(pk=int(user["id"]))
    assert (learner.username, learner.email) == ("test_user", "test.user@okta.local")
    assert LearnerProfile.objects.get(user=learner).name == "Test User"
    assert UserOrganizationMapping.objects.filter(user=learner, organization=alpha.organization,
                                                  is_admin=False).exists()
    assert authenticate(username="test_user", password=PASSWORD) == learner
    assert user == {
        "schemas": [USER_SCHEMA], "id": str(learner.pk), "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "test.user@okta.local", "name": {"givenName": "Test", "familyName": "User"},
        "displayName": "Test User",
        "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}], "active": True,
        "meta": {**user["meta"], "resourceType": "User", "location": f"http://alpha.localhost{user_url(learner.pk)}"},
    }
    assert "password" not in user
    assert learner.is_active and mail.outbox == []  # the provider vouches for the address: no activation email
    assert list(AuditEntry.objects.filter(action="scim_create").values_list("learner_id", "status", "outcome")) == [
        (learner.pk, 201, "registered")]


def test_the_answer_names_its_location(alpha, provider):
    response = scim(provider, alpha, "POST", USERS, okta_user())
    assert response["Location"] == response.json()["meta"]["location"]


def test_without_a_password_the_learner_gets_the_set_your_password_email(alpha, provider):
    user = create(provider, alpha, okta_user(password=None))
    learner = User.objects.get(pk=int(user["id"]))
    assert not learner.is_active and user["active"] is True
    [message] = mail.outbox
    assert message.to == ["test.user@okta.local"] and "password" in message.subject.lower()


def test_created_inactive_the_learner_is_switched_off_and_sent_nothing(alpha, provider):
    user = create(provider, alpha, okta_user(active=False))
    learner = User.objects.get(pk=int(user["id"]))
    assert user["active"] is False and not learner.has_usable_password()
    assert authenticate(username="test_user", password=PASSWORD) is None
    assert mail.outbox == []
    assert PasswordToggleHistory.objects.filter(user=learner, disabled=True).count() == 1


def test_a_weak_password_is_a_400_naming_password_and_registers_nobody(alpha, provider):
    before = written()
    assert_scim_error(scim(provider, alpha, "POST", USERS, okta_user(password="a")), 400, "invalidValue", "password")
    assert written() == before and not ScimIdentity.objects.exists()


@pytest.mark.parametrize("change, named", [
    ({"userName": None}, "userName"), ({"userName": " "}, "userName"), ({"userName": 7}, "userName"),
    ({"emails": None}, "emails"), ({"emails": []}, "emails"), ({"emails": "a@example.com"}, "emails"),
    ({"emails": [{"type": "work"}]}, "emails.value"), ({"emails": [{"value": "not an address"}]}, "emails"),
    ({"emails": [{"value": "a@example.com", "primary": True}, {"value": "b@example.com", "primary": True}]},
     "emails"),
    ({"active": "maybe"}, "active"), ({"name": "Test User"}, "name"), ({"externalId": 12}, "externalId"),
    ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}, "schemas"), ({"password": 12}, "password"),
    ({"userName": "x" * 256}, "userName"), ({"displayName": "a\x00b"}, "displayName"),
])
def test_a_refused_attribute_is_a_400_naming_it(alpha, provider, change, named):
    before = written()
    assert_scim_error(scim(provider, alpha, "POST", USERS, okta_user(**change)), 400, "invalidValue", named)
    assert written() == before and not ScimIdentity.objects.exists()


def test_a_taken_user_name_is_a_409_uniqueness(alpha, provider):
    create(provider, alpha, okta_user())
    before = written()
    again = okta_user(userName="TEST.USER@okta.local", emails=[{"value": "other@example.com"}])
    assert_scim_error(scim(provider, alpha, "POST", USERS, again), 409, "uniqueness", "userName")
    assert written() == before


def test_a_user_name_that_is_a_learners_username_is_taken(alpha, provider):
    make_user("ada", alpha)
    body = okta_user(userName="Ada", emails=[{"value": "new@example.com"}])
    assert_scim_error(scim(provider, alpha, "POST", USERS, body), 409, "uniqueness", "userName")


def test_a_taken_email_is_a_409_uniqueness_naming_emails(alpha, provider):
    make_user("ada", alpha)  # ada@example.com
    body = okta_user(userName="someone", emails=[{"value": "ADA@example.com", "type": "work"}])
    assert_scim_error(scim(provider, alpha, "POST", USERS, body), 409, "uniqueness", "emails")


def test_the_open_edx_username_is_made_from_the_user_name(alpha, provider, settings):
    settings.USERNAME_MAX_LENGTH = 30
    assert next(username_candidates("Jöhn.Dœ@example.com")) == "John_D"
    assert next(username_candidates("3f1c8a4e-5b7d-4c2a-9e8f-0a1b2c3d4e5f")) == "3f1c8a4e-5b7d-4c2a-9e8f-0a1b2c"
    assert next(username_candidates("@")) == "learner"
    make_user("test_user")  # another site's: the username is taken platform-wide
    user = create(provider, alpha, okta_user())
    username = User.objects.get(pk=int(user["id"])).username
    assert username.startswith("test_user_") and len(username) == len("test_user_") + 6


def test_the_service_reads_plain_json_and_answers_it_when_asked(alpha, provider):
    response = scim(provider, alpha, "POST", USERS, okta_user(), content_type="application/json",
                    HTTP_ACCEPT="application/json")
    assert response.status_code == 201 and response["Content-Type"] == "application/json"


# Read, filter, page

def test_a_learner_registered_otherwise_is_a_user_named_by_their_username(alpha, provider):
    alpha_admin = Caller(provider.user)  # the v1 API's documented scheme: Token
    with_password = learner_body(username="ada", email="ada@example.com", name="Ada Lovelace")
    ada = User.objects.get(pk=alpha_admin.register(alpha, with_password).json()["user_id"])
    user = scim(provider, alpha, "GET", user_url(ada.pk)).json()
    assert {key: user[key] for key in ("id", "userName", "name", "emails", "active")} == {
        "id": str(ada.pk), "userName": "ada", "name": {"formatted": "Ada Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": True}], "active": True}
    assert found(provider, alpha, 'filter=userName eq "ADA"') == [str(ada.pk)]


def test_filters_find_a_learner_as_providers_ask(alpha, provider):
    user_id = create(provider, alpha, okta_user())["id"]
    create(provider, alpha, okta_user("someone.else@okta.local", externalId="00uother"))
    for query in ['userName eq "test.user@okta.local"', 'userName eq "TEST.USER@OKTA.LOCAL"',
                  'emails.value eq "test.user@okta.local"', 'emails[type eq "work"].value eq "Test.User@okta.local"',
                  'emails eq "test.user@okta.local"', 'externalId eq "00ujl29u0le5T6Aj10h7"',
                  f'{USER_SCHEMA}:userName eq "test.user@okta.local"',
                  'userName eq "test.user@okta.local" and active eq true',
                  'userName sw "test." and not (externalId eq "00uother")']:
        assert found(provider, alpha, f"filter={query}") == [user_id], query
    assert found(provider, alpha, 'filter=externalId eq "00UJL29U0LE5T6AJ10H7"') == []  # caseExact
    assert found(provider, alpha, 'filter=userName eq "nobody"') == []
    assert found(provider, alpha, "filter=active eq false") == []


def test_another_sites_learners_and_the_sites_admins_are_never_found(alpha, beta, provider):
    make_user("bea", beta)
    assert found(provider, alpha, 'filter=userName eq "bea"') == []
    assert found(provider, alpha, 'filter=userName eq "alpha_admin"') == []
    assert_scim_error(scim(provider, alpha, "GET", user_url(User.objects.get(username="bea").pk)), 404)
    assert_scim_error(scim(provider, alpha, "GET", user_url(provider.user.pk)), 404)


@pytest.mark.parametrize("query, mentions", [
    ('filter=displayName eq "Test User"', "displayName"), ('filter=name.givenName eq "Test"', "name.givenName"),
    ('filter=userName eq "a" and title eq "b"', "title"), ("filter=userName eq", None),
    ("filter=externalId eq jyoung", None), ("filter=(", None), ('filter=userName xx "a"', None),
    ('filter=urn:other:User:userName eq "a"', "urn:other:User"),
])
def test_a_filter_the_service_cannot_answer_is_a_400_invalid_filter(alpha, provider, query, mentions):
    assert_scim_error(scim(provider, alpha, "GET", f"{USERS}?{query}"), 400, "invalidFilter", mentions)


def test_pages_follow_start_index_and_count_oldest_first(alpha, provider):
    ids = [create(provider, alpha, okta_user(f"user{n}@okta.local", externalId=str(n)))["id"] for n in range(5)]

    def page(query):
        answer = scim(provider, alpha, "GET", f"{USERS}?{query}").json()
        return answer["totalResults"], answer["startIndex"], answer["itemsPerPage"], [
            resource["id"] for resource in answer["Resources"]]

    assert page("startIndex=2&count=2") == (5, 2, 2, ids[1:3])
    assert page("startIndex=5&count=2") == (5, 5, 1, ids[4:])
    assert page("startIndex=9") == (5, 9, 0, [])
    assert page("count=0") == (5, 1, 0, [])
    assert page("startIndex=0&count=-3") == (5, 1, 0, [])  # RFC 7644: below 1 is 1, below 0 is 0
    assert page("count=100000") == (5, 1, 5, ids)
    assert page('filter=userName sw "user"&startIndex=4') == (5, 4, 2, ids[3:])


@pytest.mark.parametrize("query, named", [("startIndex=two", "startIndex"), ("count=1.5", "count")])
def test_a_page_that_is_no_integer_is_a_400_naming_it(alpha, provider, query, named):
    assert_scim_error(scim(provider, alpha, "GET", f"{USERS}?{query}"), 400, "invalidValue", named)


def test_attributes_and_excluded_attributes_shape_the_answer(alpha, provider):
    user_id = create(provider, alpha, okta_user())["id"]
    only = scim(provider, alpha, "GET", f"{user_url(user_id)}?attributes=userName,emails.value,name.GIVENNAME").json()
    assert only == {"schemas": [USER_SCHEMA], "id": user_id, "userName": "test.user@okta.local",
                    "emails": [{"value": "test.user@okta.local"}], "name": {"givenName": "Test"}}
    without = scim(provider, alpha, "GET", f"{USERS}?excludedAttributes=meta,name,emails.type,id").json()
    [resource] = without["Resources"]
    assert "meta" not in resource and "name" not in resource and resource["id"] == user_id  # id always
    assert resource["emails"] == [{"primary": True, "value": "test.user@okta.local"}]


@pytest.mark.parametrize("path", [".search", "Users/.search"])
def test_a_search_is_a_list_whose_query_is_the_body(alpha, provider, path):
    user_id = create(provider, alpha, okta_user())["id"]
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": ["userName"],
            "filter": 'userName eq "test.user@okta.local"', "startIndex": 1, "count": 10}
    answer = scim(provider, alpha, "POST", f"{SCIM}{path}", body).json()
    assert answer["Resources"] == [{"schemas": [USER_SCHEMA], "id": user_id, "userName": "test.user@okta.local"}]
    assert_scim_error(scim(provider, alpha, "POST", f"{SCIM}{path}", {"filter": 7}), 400, "invalidValue", "filter")
    assert_scim_error(scim(provider, alpha, "POST", f"{SCIM}{path}", {"schemas": ["x"]}), 400, "invalidSyntax")


# Replace

def test_a_put_replaces_the_name_the_email_and_the_user_name(alpha, provider):
    user = create(provider, alpha, okta_user())
    mail.outbox.clear()
    replaced = {**user, "userName": "tuser", "name": {"formatted": "Tess User"}, "displayName": None,
                "emails": [{"value": "tess@example.com", "type": "work", "primary": True}]}
    response = scim(provider, alpha, "PUT", user_url(user["id"]), replaced)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["userName"], answer["name"], answer["emails"][0]["value"]) == (
        "tuser", {"formatted": "Tess User"}, "tess@example.com")
    assert "displayName" not in answer
    learner = User.objects.get(pk=int(user["id"]))
    assert (learner.username, learner.email) == ("test_user", "tess@example.com")  # the username never changes
    assert LearnerProfile.objects.get(user=learner).name == "Tess User"
    assert [message.to for message in mail.outbox] == [["test.user@okta.local"]]  # the old address is told
    assert found(provider, alpha, 'filter=userName eq "test.user@okta.local"') == []
    assert found(provider, alpha, 'filter=userName eq "tuser"') == [user["id"]]


def test_a_put_taking_another_users_email_is_a_409_and_changes_nothing(alpha, provider):
    first = create(provider, alpha, okta_user())
    second = create(provider, alpha, okta_user("other@okta.local"))
    before = written()
    taken = {**second, "emails": first["emails"]}
    assert_scim_error(scim(provider, alpha, "PUT", user_url(second["id"]), taken), 409, "uniqueness", "emails")
    assert written() == before
    assert scim(provider, alpha, "GET", user_url(second["id"])).json() == {
        **second, "meta": {**second["meta"], "lastModified": second["meta"]["lastModified"]}}


def test_a_put_taking_another_users_user_name_is_a_409(alpha, provider):
    create(provider, alpha, okta_user())
    second = create(provider, alpha, okta_user("other@okta.local"))
    taken = {**second, "userName": "Test.User@okta.local"}
    assert_scim_error(scim(provider, alpha, "PUT", user_url(second["id"]), taken), 409, "uniqueness", "userName")


def test_a_name_changed_otherwise_shows_as_the_platform_has_it(alpha, provider):
    alpha_admin = Caller(provider.user)
    user = create(provider, alpha, okta_user())
    changed = alpha_admin.client.patch(f"/tahoe/api/v1/learners/{user['id']}/", {"name": "Tessa Userton"},
                                       format="json", HTTP_HOST=alpha.domain)
    assert changed.status_code == 200
    assert scim(provider, alpha, "GET", user_url(user["id"])).json()["name"] == {"formatted": "Tessa Userton"}


# Patch

def test_a_patch_without_a_path_switches_the_learner_off_and_on(alpha, provider):
    user = create(provider, alpha, okta_user())
    off = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200 and off.json()["active"] is False
    assert authenticate(username="test_user", password=PASSWORD) is None
    on = scim(provider, alpha, "PATCH", user_url(user["id"]),
              patch_op({"op": "Replace", "path": "active", "value": "True"}))
    assert on.status_code == 200 and on.json()["active"] is True
    assert User.objects.get(pk=int(user["id"])).has_usable_password()
    assert list(PasswordToggleHistory.objects.order_by("pk").values_list("disabled", flat=True)) == [True, False]


def test_patch_paths_as_providers_send_them(alpha, provider):
    user = create(provider, alpha, okta_user())
    operations = patch_op(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Userton"},
        {"op": "Add", "path": "nickName", "value": "Testy"},  # not kept: changes nothing
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
         "value": "42"},
        {"op": "replace", "value": {"name.givenName": "Tess", "externalId": "E-1", "displayName": "Tess U."}},
    )
    response = scim(provider, alpha, "PATCH", user_url(user["id"]), operations)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["emails"] == [{"primary": True, "value": "new@example.com", "type": "work"}]
    assert (answer["name"], answer["externalId"], answer["displayName"]) == (
        {"givenName": "Tess", "familyName": "Userton"}, "E-1", "Tess U.")
    learner = User.objects.get(pk=int(user["id"]))
    assert learner.email == "new@example.com" and LearnerProfile.objects.get(user=learner).name == "Tess Userton"


def test_an_email_of_a_new_type_is_added_and_a_new_primary_takes_over(alpha, provider):
    user = create(provider, alpha, okta_user())
    added = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "add", "path": "emails", "value": [{"value": "home@example.com", "type": "home", "primary": True}]}))
    assert added.json()["emails"] == [{"primary": False, "value": "test.user@okta.local", "type": "work"},
                                      {"value": "home@example.com", "type": "home", "primary": True}]
    assert User.objects.get(pk=int(user["id"])).email == "home@example.com"
    removed = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "remove", "path": 'emails[type eq "home"]'}))
    assert removed.json()["emails"] == [{"primary": False, "value": "test.user@okta.local", "type": "work"}]
    assert User.objects.get(pk=int(user["id"])).email == "test.user@okta.local"


def test_removing_optional_attributes_leaves_them_without_a_value(alpha, provider):
    user = create(provider, alpha, okta_user())
    answer = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "remove", "path": "name"}, {"op": "remove", "path": "externalId"},
        {"op": "remove", "path": "active"})).json()
    assert "name" not in answer and "externalId" not in answer and "active" not in answer  # active: on, no value
    assert answer["displayName"] == "Test User"
    assert LearnerProfile.objects.get(user_id=int(user["id"])).name == "Test User"  # the displayName now
    assert User.objects.get(pk=int(user["id"])).has_usable_password()


@pytest.mark.parametrize("body, scim_type, mentions", [
    (patch_op({"op": "move", "path": "active", "value": False}), "invalidSyntax", "op"),
    (patch_op({"op": "remove"}), "noTarget", None),
    (patch_op({"op": "replace", "path": "title.x.y", "value": 1}), "invalidPath", "title.x.y"),
    (patch_op({"op": "replace", "path": "groups2", "value": 1}), "invalidPath", "groups2"),
    (patch_op({"op": "replace", "path": 'emails[type ne "work"].value', "value": "a@b.c"}), "invalidFilter", None),
    (patch_op({"op": "replace", "path": 'name[givenName eq "x"]', "value": "a"}), "invalidPath", None),
    (patch_op({"op": "replace", "value": "inactive"}), "invalidValue", "value"),
    (patch_op({"op": "replace", "path": "active"}), "invalidValue", "value"),
    (patch_op({"op": "replace", "path": "active", "value": "off"}), "invalidValue", "active"),
    (patch_op({"op": "remove", "path": "userName"}), "invalidValue", "userName"),
    (patch_op({"op": "remove", "path": "emails"}), "invalidValue", "emails"),
    (patch_op(), "invalidSyntax", "Operations"), ({"Operations": "replace"}, "invalidSyntax", "Operations"),
    ({"schemas": [USER_SCHEMA], "Operations": []}, "invalidSyntax", "schemas"), ([], "invalidSyntax", None),
])
def test_a_patch_the_service_cannot_apply_is_a_400_and_changes_nothing(alpha, provider, body, scim_type, mentions):
    user = create(provider, alpha, okta_user())
    before = written()
    assert_scim_error(scim(provider, alpha, "PATCH", user_url(user["id"]), body), 400, scim_type, mentions)
    assert written() == before


def test_a_password_in_a_patch_or_a_put_is_the_learners_new_password(alpha, provider):
    user = create(provider, alpha, okta_user(password=None))
    changed = scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "replace", "path": "password", "value": "An0ther-good-one"}))
    assert changed.status_code == 200 and "password" not in changed.json()
    assert authenticate(username="test_user", password="An0ther-good-one").pk == int(user["id"])
    put = scim(provider, alpha, "PUT", user_url(user["id"]), okta_user(password="Th1rd-good-one"))
    assert put.status_code == 200
    assert authenticate(username="test_user", password="Th1rd-good-one").pk == int(user["id"])
    kept = scim(provider, alpha, "PUT", user_url(user["id"]), okta_user(password=None))  # none given: kept
    assert kept.status_code == 200 and authenticate(username="test_user", password="Th1rd-good-one")


def test_a_password_the_policy_refuses_is_a_400_naming_it(alpha, provider):
    user = create(provider, alpha, okta_user())
    before = written()
    weak = patch_op({"op": "replace", "path": "password", "value": "short"})
    assert_scim_error(scim(provider, alpha, "PATCH", user_url(user["id"]), weak), 400, "invalidValue", "password")
    assert written() == before
    assert authenticate(username="test_user", password=PASSWORD).pk == int(user["id"])


@pytest.mark.parametrize("already_off", [False, True])
def test_switching_off_never_fails_on_a_password_which_is_not_kept(alpha, provider, already_off):
    """A deactivating PUT may carry the password (Okta's password sync): the learner is off, with no password."""
    user = create(provider, alpha, okta_user(active=not already_off))
    response = scim(provider, alpha, "PUT", user_url(user["id"]), okta_user(active=False, password="An0ther-good-1"))
    assert response.status_code == 200 and response.json()["active"] is False
    learner = User.objects.get(pk=int(user["id"]))
    assert not learner.has_usable_password()
    on = scim(provider, alpha, "PATCH", user_url(user["id"]),
              patch_op({"op": "replace", "path": "active", "value": True}))
    assert on.json()["active"] is True
    assert authenticate(username="test_user", password="An0ther-good-1") is None  # sets their own, as any re-enabled


# Delete

def test_a_delete_switches_the_learner_off_and_hides_them(alpha, provider):
    user = create(provider, alpha, okta_user())
    response = scim(provider, alpha, "DELETE", user_url(user["id"]))
    assert response.status_code == 204 and response.content == b""
    assert_scim_error(scim(provider, alpha, "GET", user_url(user["id"])), 404)
    assert_scim_error(scim(provider, alpha, "DELETE", user_url(user["id"])), 404)
    assert_scim_error(scim(provider, alpha, "PATCH", user_url(user["id"]), patch_op(
        {"op": "replace", "value": {"active": True}})), 404)
    assert found(provider, alpha, 'filter=userName eq "test.user@okta.local"') == [] == found(provider, alpha, "")
    learner = User.objects.get(pk=int(user["id"]))  # the account and its records stay
    assert not learner.has_usable_password()
    assert UserOrganizationMapping.objects.filter(user=learner, organization=alpha.organization).exists()
    assert list(AuditEntry.objects.filter(action="scim_delete").values_list("learner_id", "status", "outcome")) == [
        (learner.pk, 204, "learner-deprovisioned"), (learner.pk, 404, "refused")]
    again = create(provider, alpha, okta_user(emails=[{"value": "back@example.com", "type": "work"}]))
    assert again["userName"] == "test.user@okta.local" and again["id"] != user["id"]  # the name is free again


def test_a_delete_of_a_learner_registered_otherwise(alpha, provider):
    alpha_admin = Caller(provider.user)
    ada = alpha_admin.register(alpha, learner_body(username="ada", email="ada@example.com")).json()["user_id"]
    assert scim(provider, alpha, "DELETE", user_url(ada)).status_code == 204
    assert_scim_error(scim(provider, alpha, "GET", user_url(ada)), 404)
    assert alpha_admin.client.get(f"/tahoe/api/v1/learners/{ada}/", HTTP_HOST=alpha.domain).json()["disabled"]


def test_changes_are_audited_with_the_learner(alpha, provider):
    user_id = int(create(provider, alpha, okta_user())["id"])
    scim(provider, alpha, "PUT", user_url(user_id), okta_user(name={"formatted": "T U"}))
    scim(provider, alpha, "PATCH", user_url(user_id), patch_op({"op": "replace", "path": "active", "value": False}))
    scim(provider, alpha, "GET", user_url(user_id))
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "learner_id", "status")) == [
        ("scim_create", user_id, 201), ("scim_replace", user_id, 200), ("scim_update", user_id, 200)]
