"""Both emails carry only the learner's site: its name, from-address and links."""

import re
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from lms.djangoapps.branding.api import get_logo_url_for_email

from conftest import BRANDS, PASSWORD, learner_body, links

FLOWS = {
    "activation": (learner_body(password=PASSWORD), "Action Required: Activate your {name} account"),
    "password-reset": (learner_body(), "Password reset on {name}"),
}
# What names a site that is not the learner's: the other site, and the LMS's own defaults.
FOREIGN = {
    "alpha": ("beta.localhost", "Beta Institute", "example.com", "edx.org", "localhost:8000", "édX"),
    "beta": ("alpha.localhost", "Alpha Academy", "example.com", "edx.org", "localhost:8000", "édX"),
}


def email_texts(message):
    """The subject, the plain text and every HTML alternative of an email."""
    return [message.subject, message.body] + [content for content, _ in message.alternatives]


@pytest.fixture
def sites(alpha, beta, alpha_admin, beta_admin):
    """Both sites, each with its admin."""
    return {"alpha": (alpha, alpha_admin), "beta": (beta, beta_admin)}


@pytest.mark.parametrize("flow", sorted(FLOWS))
@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_each_email_is_branded_with_the_learners_site_only(sites, name, flow):
    """Subject, sender, every link and every word name the learner's site and nothing else."""
    site, admin = sites[name]
    brand = BRANDS[name]
    body, subject = FLOWS[flow]

    response = admin.register(site, body)
    assert response.status_code == 200, response.content

    (message,) = mail.outbox
    assert message.subject == subject.format(name=brand["PLATFORM_NAME"])
    assert message.from_email == brand["email_from_address"]
    assert message.to == [body["email"]]
    urls = {url for text in email_texts(message) for url in links(text)}
    # The LMS takes the email logo from its settings only (LOGO_URL_PNG_FOR_EMAIL); a theme
    # can replace it, a site's configuration cannot.
    lms_wide = {get_logo_url_for_email()}
    assert urls - lms_wide, "the email has no link at all"
    assert {urlparse(url).hostname for url in urls - lms_wide} == {site.domain}
    for text in email_texts(message):
        for foreign in FOREIGN[name]:
            assert foreign not in text.replace(get_logo_url_for_email(), ""), (foreign, text)


def test_the_activation_link_is_the_learners_sites_and_activates(alpha, alpha_admin):
    """The activation link opens on the learner's site and activates the account."""
    response = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    (link,) = [url for url in links(mail.outbox[0].body) if "/activate/" in url]
    assert urlparse(link).hostname == "alpha.localhost"

    Client().get(urlparse(link).path, HTTP_HOST="alpha.localhost")
    assert get_user_model().objects.get(id=response.json()["user_id"]).is_active


def test_the_site_values_reach_the_email(beta, beta_admin):
    """The contact address and support link of the site's configuration are in its activation email."""
    beta_admin.register(beta, learner_body(password=PASSWORD))
    text = " ".join(email_texts(mail.outbox[0]))
    assert "help@beta.localhost" in text
    assert re.search(r"http://beta\.localhost/support", text)
