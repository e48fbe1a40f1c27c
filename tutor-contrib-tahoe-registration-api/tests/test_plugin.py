"""
The Tutor plugin with the real ``tutor`` of this virtualenv: what ``tutor config save`` renders
(image, LMS settings) and what the ``do`` jobs and init task run.
"""

import os
import re
import runpy
import shlex

import pytest
from tutor.__about__ import __version__ as tutor_version

from conftest import REPOSITORY

TUTOR_MAJOR = int(tutor_version.split(".")[0])
APP_VERSION = re.search(r'^__version__ = "([^"]+)"', (REPOSITORY / "tahoe_registration_api" / "__init__.py")
                        .read_text(), re.MULTILINE).group(1)
APP_DEFAULTS = runpy.run_path(str(REPOSITORY / "tahoe_registration_api" / "settings" / "common.py"))["DEFAULTS"]

# What the LMS settings say once the plugin is enabled, before the operator changes anything: the
# LMS plugin's defaults, but for the switch, which enabling the Tutor plugin turns on, and the
# adapter, which only the development LMS and the tests change.
EXPECTED = {
    **{name: value for name, value in APP_DEFAULTS.items() if name != "TAHOE_REGISTRATION_API_ADAPTER"},
    "TAHOE_REGISTRATION_API_ENABLED": True,
}
LMS_SETTINGS = ("production", "development")


def install_lines(dockerfile):
    """The plugin's RUN instruction in the python-requirements stage of the openedx Dockerfile, joined."""
    stage = dockerfile.split(" AS python-requirements\n", 1)[1].split("\nFROM ", 1)[0]
    match = re.search(r"^# tahoe-registration-api: .*\n(RUN .*\\\n.*)$", stage, re.MULTILINE)
    return match and re.sub(r"\\\n\s*", "", match.group(1))


def test_this_run_uses_the_expected_tutor_major():
    assert TUTOR_MAJOR in (20, 21, 22)
    if os.environ.get("TUTOR_EXPECTED_MAJOR"):
        assert TUTOR_MAJOR == int(os.environ["TUTOR_EXPECTED_MAJOR"])


def test_the_plugin_is_listed_enabled_with_its_version(tutor):
    listing = tutor("plugins", "list").stdout
    row = rf"^tahoe-registration-api\s+\S*\s*enabled\s+{re.escape(APP_VERSION)}$"  # Tutor 22 adds an emoji
    assert re.search(row, listing, re.MULTILINE), listing


def test_the_openedx_image_installs_the_pinned_release_as_tutor_installs_packages(tutor):
    pip = "pip" if TUTOR_MAJOR == 20 else "$PIP_COMMAND"  # Tutor 21 moved its own installs to uv
    dockerfile = tutor.read("build", "openedx", "Dockerfile")
    assert install_lines(dockerfile) == (f"RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared "
                                         f"{pip} install tahoe-registration-api=={APP_VERSION}")
    assert f"\n    {pip} install -r /openedx/edx-platform/requirements/edx/base.txt" in dockerfile


@pytest.mark.parametrize("kind", LMS_SETTINGS)
def test_each_lms_settings_file_sets_every_setting_once(tutor, kind):
    assert tutor.lms_settings(kind) == {name: [value] for name, value in EXPECTED.items()}


def test_caddy_lets_a_registration_jobs_csv_through_up_to_the_plugins_limit(tutor):
    tutor("config", "save", "--set", "TAHOE_REGISTRATION_API_JOB_MAX_BODY_BYTES=10485760")
    caddyfile = tutor.read("apps", "caddy", "Caddyfile")
    lms_block = caddyfile.split("{{ LMS_HOST }}", 1)[-1] if "{{" in caddyfile else caddyfile
    block = re.search(r"handle /tahoe/api/v1/registration-jobs\* \{\s*request_body \{\s*max_size (\d+)\s*\}\s*\}",
                      lms_block)
    assert block and block.group(1) == "10485760", caddyfile
    assert caddyfile.index("registration-jobs") < caddyfile.index("max_size 4MB")  # in the LMS's block


def test_the_cms_settings_are_left_alone(tutor):
    assert "TAHOE_REGISTRATION_API" not in tutor.read("apps", "openedx", "settings", "cms", "production.py")


def test_the_lms_plugins_switch_is_off_and_enabling_the_tutor_plugin_turns_it_on():
    assert APP_DEFAULTS["TAHOE_REGISTRATION_API_ENABLED"] is False
    assert EXPECTED["TAHOE_REGISTRATION_API_RATE"] == "60/m" and EXPECTED["TAHOE_REGISTRATION_API_ENABLED"] is True


def test_the_operators_values_reach_the_lms_settings(tutor):
    tutor("config", "save", "--set", "TAHOE_REGISTRATION_API_RATE=100/5m",
          "--set", "TAHOE_REGISTRATION_API_ENABLED=false",
          "--set", "TAHOE_REGISTRATION_API_ALLOW_STAFF=true", "--set", "TAHOE_REGISTRATION_API_MAX_BODY_BYTES=32768",
          "--set", "TAHOE_REGISTRATION_API_CACHE_TIMEOUT=0", "--set", "TAHOE_REGISTRATION_API_BULK_RATE=null",
          "--set", "TAHOE_REGISTRATION_API_EMAIL_QUEUE=edx.lms.core.high",
          "--set", "TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE=[10, 600]")
    changed = {
        "TAHOE_REGISTRATION_API_RATE": "100/5m", "TAHOE_REGISTRATION_API_ENABLED": False,
        "TAHOE_REGISTRATION_API_ALLOW_STAFF": True, "TAHOE_REGISTRATION_API_MAX_BODY_BYTES": 32768,
        "TAHOE_REGISTRATION_API_CACHE_TIMEOUT": 0, "TAHOE_REGISTRATION_API_BULK_RATE": None,
        "TAHOE_REGISTRATION_API_EMAIL_QUEUE": "edx.lms.core.high",
        "TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE": [10, 600],
    }
    for kind in LMS_SETTINGS:
        assert tutor.lms_settings(kind) == {name: [value] for name, value in {**EXPECTED, **changed}.items()}
    assert "TAHOE_REGISTRATION_API_RATE: 100/5m" in tutor.root.joinpath("config.yml").read_text()


@pytest.mark.parametrize("assignment, message", [
    ("TAHOE_REGISTRATION_API_MAX_BODY_BYTES=big", "TAHOE_REGISTRATION_API_MAX_BODY_BYTES must be a whole number"),
    ("TAHOE_REGISTRATION_API_CACHE_TIMEOUT=-1", "TAHOE_REGISTRATION_API_CACHE_TIMEOUT must be a whole number"),
    ("TAHOE_REGISTRATION_API_ENABLED=1", "TAHOE_REGISTRATION_API_ENABLED must be true or false, not 1"),
    ("TAHOE_REGISTRATION_API_RATE=60", "TAHOE_REGISTRATION_API_RATE must be a rate such as 60/m (count/period, the "
                                       "period s, m, h or d) or null, not 60"),
    ("TAHOE_REGISTRATION_API_BULK_RATE=fast", "TAHOE_REGISTRATION_API_BULK_RATE must be a rate such as 60/m"),
    ("TAHOE_REGISTRATION_API_EMAIL_QUEUE=3", "TAHOE_REGISTRATION_API_EMAIL_QUEUE must be a string or null, not 3"),
    ("TAHOE_REGISTRATION_API_BULK_MAX=null", "TAHOE_REGISTRATION_API_BULK_MAX must be a whole number, 0 or more, not"),
    ("TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE=[5, soon]",
     "TAHOE_REGISTRATION_API_WEBHOOK_RETRY_SCHEDULE must be a list of whole numbers of seconds"),
])
def test_a_value_of_the_wrong_type_stops_config_save_with_a_clear_message(tutor, assignment, message):
    process = tutor("config", "save", "--set", assignment, check=False)
    assert process.returncode != 0
    assert message in process.stdout + process.stderr


def test_the_requirement_may_be_a_git_url_or_nothing(tutor):
    url = "git+https://github.com/example/tahoe-registration-api.git@main#egg=tahoe-registration-api"
    tutor("config", "save", "--set", f"TAHOE_REGISTRATION_API_PIP_REQUIREMENT={url}")
    assert install_lines(tutor.read("build", "openedx", "Dockerfile")).endswith(f" install '{url}'")
    tutor("config", "save", "--set", "TAHOE_REGISTRATION_API_PIP_REQUIREMENT=")
    dockerfile = tutor.read("build", "openedx", "Dockerfile")
    assert install_lines(dockerfile) is None and "tahoe-registration-api" not in dockerfile


def test_a_mounted_checkout_is_installed_in_the_image_for_development(tutor, tmp_path):
    checkout = tmp_path / "src" / "tahoe-registration-api"
    checkout.mkdir(parents=True)
    tutor("mounts", "add", str(checkout))
    tutor("config", "save")
    dockerfile = tutor.read("build", "openedx", "Dockerfile")
    assert "FROM scratch AS mnt-tahoe-registration-api" in dockerfile
    assert re.search(r'^RUN \S*(pip|\$PIP_COMMAND)\S* install -e "/mnt/tahoe-registration-api"$', dockerfile,
                     re.MULTILINE)


def test_init_runs_the_plugins_migrations_after_the_lms_init(tutor):
    assert tutor.jobs("local", "do", "init", "--limit", "tahoe-registration-api") == [
        ("lms-job", "./manage.py lms migrate tahoe_registration_api")
    ]
    jobs = tutor.jobs("local", "do", "init")
    lms_init = next(index for index, (_, script) in enumerate(jobs) if "./manage.py lms migrate\n" in script)
    assert jobs.index(("lms-job", "./manage.py lms migrate tahoe_registration_api")) > lms_init


@pytest.mark.parametrize("mode", ["local", "dev", "k8s"])
def test_do_lists_the_plugins_jobs(tutor, mode):
    listing = tutor(mode, "do", "--help").stdout
    assert re.search(r"^\s+tahoe-create-site\s+Create a Tahoe site and its admin\.$", listing, re.MULTILINE), listing
    assert re.search(r"^\s+tahoe-create-token\s+Print a site admin's API token\.$", listing, re.MULTILINE), listing


@pytest.mark.parametrize("mode", ["local", "dev"])
def test_tahoe_create_token_runs_the_management_command_in_the_lms(tutor, mode):
    assert tutor.jobs(mode, "do", "tahoe-create-token", "alice") == [
        ("lms-job", "./manage.py lms tahoe_create_token alice")
    ]


def test_tahoe_create_site_passes_its_arguments_through_intact(tutor):
    """Shell quotes and template braces reach the management command as typed."""
    name = "O'Brien {{ College }} {% raw %} $HOME"
    [(service, script)] = tutor.jobs("local", "do", "tahoe-create-site", "learn.example.com", "obrien",
                                     "--admin", "site admin", "--name", name)
    assert service == "lms-job"
    assert shlex.split(script) == ["./manage.py", "lms", "tahoe_create_site", "learn.example.com", "obrien",
                                   "--admin", "site admin", "--name", name]
    [(_, script)] = tutor.jobs("dev", "do", "tahoe-create-site", "learn.example.com", "obrien", "--admin", "alice")
    assert script == "./manage.py lms tahoe_create_site learn.example.com obrien --admin alice"


def test_tahoe_create_site_requires_an_admin(tutor):
    process = tutor("local", "do", "tahoe-create-site", "learn.example.com", "obrien", check=False)
    assert process.returncode != 0 and "--admin" in process.stderr


def test_disabling_the_plugin_takes_it_out_of_the_environment(tutor):
    tutor("plugins", "disable", "tahoe-registration-api")
    tutor("config", "save")
    assert "tahoe-registration-api" not in tutor.read("build", "openedx", "Dockerfile")
    for kind in LMS_SETTINGS:
        assert tutor.lms_settings(kind) == {}
    assert "tahoe-create-token" not in tutor("local", "do", "--help").stdout
