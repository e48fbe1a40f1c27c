"""
What the SCIM service publishes about itself: ``ServiceProviderConfig``, ``ResourceTypes`` and ``Schemas``.

The ``User`` schema names only what the service keeps and gives back as it was sent: the learner's
``userName``, ``name`` (``formatted``, ``givenName``, ``familyName``), ``displayName``, ``emails``,
``active``, ``externalId`` and ``password`` (never returned); other core attributes a provider sends
are accepted and not kept. A learner's Open edX username is the learner API's (``/tahoe/api/v1/learners/<id>/``:
the SCIM ``id`` is the learner's ``user_id``).
The meta-schemas (RFC 7643 section 7) describe the discovery resources themselves.
"""

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

MAX_RESULTS = 500  # the most resources one page of a list or search holds


def attribute(name, kind="string", description="", *, multi=False, required=False,  # pylint: disable=too-many-arguments
              mutability="readWrite", returned="default", uniqueness="none", case_exact=False,
              sub_attributes=None, canonical=None):
    """Return one attribute's definition (RFC 7643 section 7)."""
    definition = {
        "name": name, "type": kind, "multiValued": multi, "description": description, "required": required,
        "caseExact": case_exact, "mutability": mutability, "returned": returned, "uniqueness": uniqueness,
    }
    if sub_attributes is not None:
        definition["subAttributes"] = sub_attributes
    if canonical is not None:
        definition["canonicalValues"] = canonical
    return definition


USER_ATTRIBUTES = [
    attribute("userName", description="The provider's unique name of the learner on this site (case aside).",
              required=True, uniqueness="server"),
    attribute("name", "complex", "The learner's name; the platform's full name is made of it.", sub_attributes=[
        attribute("formatted", description="The full name, as it is displayed."),
        attribute("givenName", description="The given (first) name."),
        attribute("familyName", description="The family (last) name."),
    ]),
    attribute("displayName", description="The name the provider displays; the full name when name has none."),
    attribute("emails", "complex", "The learner's email addresses; the primary one (else the first work "
              "one, else the first) is their Open edX email, unique on the site.", multi=True, required=True,
              sub_attributes=[
                  attribute("value", description="The address.", required=True),
                  attribute("type", description="What the address is for.", canonical=["work", "home", "other"]),
                  attribute("primary", "boolean", "Whether this is the learner's email."),
              ]),
    attribute("active", "boolean", "Whether the learner may sign in (false: the account is switched off; "
              "without a value, on)."),
    attribute("password", description="The learner's new password (the platform's password policy applies; "
              "not kept for a switched-off learner, who has none). Created without one, the learner is sent "
              "the \"set your password\" email.", mutability="writeOnly", returned="never"),
]
EXTERNAL_ID = attribute("externalId", description="The provider's own identifier of the learner.", case_exact=True)


def _meta_schemas():
    """Return the meta-schemas' attributes: Schema, ResourceType and ServiceProviderConfig (RFC 7643 section 7)."""
    definition = [
        attribute(field) for field in ("name", "type", "description", "mutability", "returned", "uniqueness")
    ] + [attribute(field, "boolean") for field in ("multiValued", "required", "caseExact")] + [
        attribute("canonicalValues", multi=True), attribute("referenceTypes", multi=True),
    ]
    schema = [
        attribute("id", mutability="readOnly", required=True, case_exact=True, uniqueness="global"),
        attribute("name", mutability="readOnly"),
        attribute("description", mutability="readOnly"),
        attribute("attributes", "complex", "The schema's attributes.", multi=True, required=True,
                  mutability="readOnly", sub_attributes=definition + [
                      attribute("subAttributes", "complex", "A complex attribute's own attributes.", multi=True,
                                mutability="readOnly", sub_attributes=definition)]),
    ]
    resource_type = [
        attribute("id", mutability="readOnly", case_exact=True),
        attribute("name", required=True, mutability="readOnly"),
        attribute("description", mutability="readOnly"),
        attribute("endpoint", "reference", required=True, mutability="readOnly"),
        attribute("schema", "reference", required=True, mutability="readOnly", case_exact=True),
        attribute("schemaExtensions", "complex", multi=True, mutability="readOnly", sub_attributes=[
            attribute("schema", "reference", required=True, mutability="readOnly", case_exact=True),
            attribute("required", "boolean", required=True, mutability="readOnly"),
        ]),
    ]

    def supported(name, *extra):
        return attribute(name, "complex", required=True, mutability="readOnly", sub_attributes=[
            attribute("supported", "boolean", required=True, mutability="readOnly"), *extra])

    service_provider_config = [
        attribute("documentationUri", "reference", mutability="readOnly"),
        supported("patch"),
        supported("bulk", attribute("maxOperations", "integer", required=True, mutability="readOnly"),
                  attribute("maxPayloadSize", "integer", required=True, mutability="readOnly")),
        supported("filter", attribute("maxResults", "integer", required=True, mutability="readOnly")),
        supported("changePassword"), supported("sort"), supported("etag"),
        attribute("authenticationSchemes", "complex", required=True, multi=True, mutability="readOnly",
                  sub_attributes=[attribute(field, required=field in ("type", "name", "description"),
                                            mutability="readOnly") for field in ("type", "name", "description")]
                  + [attribute(field, "reference", mutability="readOnly")
                     for field in ("specUri", "documentationUri")]),
    ]
    return [
        (SCHEMA, "Schema", "A schema: the attributes of a kind of resource.", schema),
        (RESOURCE_TYPE, "ResourceType", "A kind of resource the service offers.", resource_type),
        (SERVICE_PROVIDER_CONFIG, "ServiceProviderConfig", "What the service supports.", service_provider_config),
    ]


def all_schemas(base_url):
    """Return every schema the service publishes, each with its ``meta``, ``base_url`` being the service's root."""
    entries = [
        (USER, "User", "A learner of the site.", USER_ATTRIBUTES + [EXTERNAL_ID]),
    ] + _meta_schemas()
    return [{
        "schemas": [SCHEMA], "id": urn, "name": name, "description": description, "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"{base_url}Schemas/{urn}"},
    } for urn, name, description, attributes in entries]


def resource_types(base_url):
    """Return the resource types the service offers: ``User``."""
    return [{
        "schemas": [RESOURCE_TYPE], "id": "User", "name": "User", "description": "A learner of the site.",
        "endpoint": "/Users", "schema": USER,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}ResourceTypes/User"},
    }]


def service_provider_config(base_url):
    """Return what the service supports: PATCH, filters and password changes; no bulk, sorting or ETags."""
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": True},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "Bearer token",
            "description": "A site admin's API token (the token page), sent as Authorization: Bearer <token>.",
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base_url}ServiceProviderConfig"},
    }
