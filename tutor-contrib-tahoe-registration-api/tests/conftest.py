"""
A Tutor project in a temporary TUTOR_ROOT, driven through the real ``tutor`` command.

No Docker: a stand-in ``docker`` on the PATH records each call (one JSON list of arguments per
line) and succeeds, so that ``tutor local do ...`` shows the job it would run in a container.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
REPOSITORY = Path(__file__).resolve().parents[2]


class Tutor:
    """The ``tutor`` command of this virtualenv, in its own TUTOR_ROOT, with a recording ``docker``."""

    def __init__(self, base):
        self.root = base / "root"
        self.docker_log = base / "docker.log"
        fake_bin = base / "bin"
        fake_bin.mkdir()
        docker = fake_bin / "docker"
        docker.write_text(
            f"#!{sys.executable}\n"
            "import json, os, sys\n"
            "with open(os.environ['FAKE_DOCKER_LOG'], 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            "if 'ls' in sys.argv:\n"
            "    print('[]')\n"
        )
        docker.chmod(0o755)
        self.env = {
            **os.environ,
            "TUTOR_ROOT": str(self.root),
            "TUTOR_PLUGINS_ROOT": str(base / "plugins"),
            "FAKE_DOCKER_LOG": str(self.docker_log),
            "PATH": f"{fake_bin}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def __call__(self, *args, check=True):
        """Run ``tutor ARGS``; return the finished process (output as text)."""
        process = subprocess.run([str(BIN / "tutor"), *args], env=self.env, capture_output=True, text=True,
                                 check=False)
        if check and process.returncode != 0:
            raise AssertionError(f"tutor {' '.join(args)} failed:\n{process.stdout}\n{process.stderr}")
        return process

    def jobs(self, *args):
        """Run ``tutor ARGS`` (a ``do`` job); return the scripts handed to ``docker compose run``, by service."""
        self.docker_log.write_text("")
        self(*args)
        jobs = []
        for line in self.docker_log.read_text().splitlines():
            argv = json.loads(line)
            if "run" in argv:  # docker compose ... run --rm [-T] SERVICE sh -e -c SCRIPT
                assert argv[-4:-1] == ["sh", "-e", "-c"], argv
                jobs.append((argv[-5], argv[-1]))
        return jobs

    def read(self, *path):
        """A file of the rendered environment."""
        return self.root.joinpath("env", *path).read_text()

    def lms_settings(self, kind):
        """The TAHOE_REGISTRATION_API_* assignments of the rendered lms/KIND.py, evaluated: {name: [values]}."""
        values = {}
        for node in ast.parse(self.read("apps", "openedx", "settings", "lms", f"{kind}.py")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if name.startswith("TAHOE_REGISTRATION_API_"):
                    values.setdefault(name, []).append(ast.literal_eval(node.value))
        return values


@pytest.fixture
def tutor(tmp_path):
    """A new Tutor project with the plugin enabled and the environment saved with its defaults."""
    project = Tutor(tmp_path)
    project("plugins", "enable", "tahoe-registration-api")
    project("config", "save")
    return project
