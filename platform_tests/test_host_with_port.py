"""A Host the LMS does not match to a site: the 403 says which site it resolved to."""

from django.contrib.auth import get_user_model

from conftest import learner_body


def test_a_host_with_a_port_gets_a_403_naming_the_site_it_resolved_to(alpha, alpha_admin):
    """``Host: alpha.localhost:8000`` resolves to the LMS's default site; the 403 says so."""
    response = alpha_admin.register("alpha.localhost:8000", learner_body())

    assert response.status_code == 403
    body = response.json()
    assert body["error_code"] == "site-not-found"
    assert "'alpha.localhost:8000'" in body["developer_message"]
    assert "'example.com'" in body["developer_message"]
    assert "port" in body["developer_message"]
    assert not get_user_model().objects.filter(username="auserton").exists()


def test_the_same_call_without_the_port_registers(alpha, alpha_admin):
    """The same call with the site's domain as the Host is a 200."""
    assert alpha_admin.register("alpha.localhost", learner_body()).status_code == 200


def test_a_site_without_an_organization_is_named_as_such(alpha, alpha_admin):
    """A Host that is a site of the LMS but no Tahoe site gets the plain message."""
    response = alpha_admin.register("example.com", learner_body())
    assert response.status_code == 403
    assert response.json()["developer_message"] == "The site 'example.com' has no Tahoe organization."
