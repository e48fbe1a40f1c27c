"""
The quickstart (docs/quickstart.rst) run as a reader runs it: ``make run``, then each command, in order.

Every ``.. code-block:: console`` of the page is a step: its lines that start with ``$`` are a command
(a line ending in a backslash goes on to the next), the lines after it what the command shows. The
first step is ``make run``; the test starts it as shown, on a free port (``PORT=``), over a fresh
database (``DEVLMS_VAR_DIR``), with the virtualenv running this test (``VENV=``, its install step
taken as done). What ``make run`` shows must appear in its output, in order (``...`` stands for
lines left out, a line ending in ``...`` for the rest of that line). Each later command runs in bash
with the token ``make run`` printed for alpha.localhost in place of ``<token>`` and the free port in
place of 8000; its answer (``curl -i``) must have the status line shown, each header shown, and each
field of the body shown, with the value shown (``"<...>"``: any value; a list has the items shown).

A command anywhere else on the page (a ``curl`` or ``make`` outside a console block) that no console
block runs fails the test: the one exception is ``make test``, the whole suite, which cannot run
inside itself.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from devlms.gunicorn import free_port, wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "docs" / "quickstart.rst"
CODE_PAGE = ROOT / "docs" / "contributing" / "code.rst"
PACKAGE = ROOT / "tahoe_registration_api"
DOCUMENTED_PORT = "8000"
TOKEN = "<token>"
SEEDED_TOKEN = re.compile(r"Site alpha\.localhost\n  admin: alpha_admin\n  token: (?P<token>[0-9a-f]{40})\n")
DIRECTIVE = re.compile(r"^\.\. code-block:: *(?P<language>\S+)\s*$")
NOT_RUN = {"make test"}


def code_blocks(text):
    """Return each ``code-block`` of an reStructuredText page as (language, its lines, dedented)."""
    lines = text.splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        directive = DIRECTIVE.match(lines[index])
        index += 1
        if not directive:
            continue
        while index < len(lines) and lines[index].strip().startswith(":"):  # the directive's options
            index += 1
        body = []
        while index < len(lines) and (not lines[index].strip() or lines[index].startswith("   ")):
            body.append(lines[index][3:])
            index += 1
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        blocks.append((directive["language"], body))
    return blocks


def steps(blocks):
    """Return the console blocks' steps as (command, the lines it shows)."""
    found = []
    for language, body in blocks:
        if language != "console":
            continue
        assert body and body[0].startswith("$ "), f"a console block starts with output, not a command: {body}"
        for line in body:
            if line.startswith("$ "):
                found.append(([line[2:]], []))
                continue
            command, shown = found[-1]
            if command[-1].endswith("\\") and not shown:
                command.append(line)
            else:
                shown.append(line)
    return [("\n".join(command), shown) for command, shown in found]


def commands_outside_console_blocks(blocks):
    """Return the commands shown in blocks that are not console blocks (so the test would not run them)."""
    commands = []
    for language, body in blocks:
        if language == "console":
            continue
        for line in body:
            command = line.split("#")[0].strip()
            if re.match(r"(curl|make|\.venv/bin/|python|manage\.py)\b", command) and command not in NOT_RUN:
                commands.append(command)
    return commands


def line_pattern(shown):
    """A regular expression for one line ``make run`` shows: placeholders for the token and a trailing ``...``."""
    rest = shown.endswith("...")
    text = shown[:-3].rstrip() if rest else shown
    pattern = re.escape(text).replace(re.escape(TOKEN), "[0-9a-f]{40}")
    return re.compile("^" + pattern + (".*" if rest else "") + "$")


def assert_shows_in_order(output, shown):
    """Assert that each line shown (but ``...``) is a line of ``output``, in the order shown."""
    lines = output.splitlines()
    position = 0
    for expected in shown:
        if expected.strip() == "...":
            continue
        pattern = line_pattern(expected)
        while position < len(lines) and not pattern.match(lines[position]):
            position += 1
        assert position < len(lines), f"`make run` does not show {expected!r} where the quickstart does"
        position += 1


def assert_matches(shown, actual, where="body"):
    """Assert that ``actual`` (parsed JSON) has every field of ``shown`` with its value; ``"<...>"`` is any."""
    if isinstance(shown, str) and re.fullmatch(r"<[^<>]+>", shown):
        return
    if isinstance(shown, dict):
        assert isinstance(actual, dict), f"{where}: an object is shown, the answer has {actual!r}"
        for key, value in shown.items():
            assert key in actual, f"{where}: the answer has no {key!r} (it has {sorted(actual)})"
            assert_matches(value, actual[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(actual, list) and len(actual) == len(shown), \
            f"{where}: {len(shown)} items are shown, the answer has {actual!r}"
        for number, (value, item) in enumerate(zip(shown, actual)):
            assert_matches(value, item, f"{where}[{number}]")
    else:
        assert actual == shown, f"{where}: the quickstart shows {shown!r}, the answer has {actual!r}"


def assert_answer(command, shown, output):
    """Check a ``curl -i`` answer: the status line, the headers shown, the body's fields shown."""
    head, _, body = output.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    shown_head = []
    for line in shown:
        if not line.strip():
            break
        shown_head.append(line)
    shown_body = "\n".join(shown[len(shown_head):]).strip()
    assert shown_head, f"the quickstart shows no status line for {command}"
    assert status_line.strip() == shown_head[0], f"{command}\nanswered {status_line!r}, not {shown_head[0]!r}"
    for line in shown_head[1:]:
        name, _, value = line.partition(":")
        assert headers.get(name.lower()) == value.strip(), \
            f"{command}\nanswered {name}: {headers.get(name.lower())!r}, not {value.strip()!r}"
    if shown_body:
        assert_matches(json.loads(shown_body), json.loads(body))


class MakeRun:
    """``make run`` on a free port over a fresh database, in its own process group; its output kept."""

    def __init__(self, var_dir):
        self.port = free_port()
        venv = Path(sys.executable).parent.parent
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("DATABASE_URL", "EMAIL_", "DEVLMS_", "DJANGO_SETTINGS_MODULE"))}
        env.update(DEVLMS_VAR_DIR=str(var_dir))
        self.output = []
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            ["make", "--no-print-directory", "-o", f"{venv}/bin/.installed", "run", f"PORT={self.port}",
             f"VENV={venv}"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)

    def text(self):
        """What ``make run`` printed so far."""
        return "".join(self.output)

    def wait_until_serving(self, timeout=120):
        """Wait until the server accepts connections; fail with its output if it stops or takes too long."""
        wait_until_listening(self.process, self.port, self.text, timeout, interval=0.2)

    def stop(self):
        """Stop the server and the Celery worker beside it (the whole process group), by force if need be."""
        for sig, wait in ((signal.SIGINT, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(wait)
                time.sleep(0.5)  # the worker may outlive make by a moment
                os.killpg(self.process.pid, 0)
            except (subprocess.TimeoutExpired, ProcessLookupError, PermissionError):
                continue
        self.reader.join(5)


@pytest.fixture(scope="module")
def quickstart():
    """The quickstart's code blocks."""
    return code_blocks(QUICKSTART.read_text(encoding="utf-8"))


def test_every_command_of_the_quickstart_is_in_a_console_block_the_test_runs(quickstart):
    commands = [command for command, _ in steps(quickstart)]
    assert [command for command in commands_outside_console_blocks(quickstart) if command not in commands] == []
    assert commands[0] == "make run"
    assert any("/registrations/" in command for command in commands)
    assert any("/enrollments/" in command and "-X POST" in command for command in commands)
    assert all(shown for _, shown in steps(quickstart)), "each command shows what it answers"


def test_the_quickstart_runs_against_make_run_and_shows_what_it_answers(quickstart):
    (first, make_run_shows), *calls = steps(quickstart)
    assert first == "make run"
    with tempfile.TemporaryDirectory(prefix="tahoe-quickstart-") as var_dir:
        server = MakeRun(var_dir)
        try:
            server.wait_until_serving()
            printed = server.text()
            assert_shows_in_order(printed, [line.replace(f"127.0.0.1:{DOCUMENTED_PORT}", f"127.0.0.1:{server.port}")
                                            for line in make_run_shows])
            token = SEEDED_TOKEN.search(printed)["token"]
            ran = 0
            for command, shown in calls:
                runnable = command.replace(TOKEN, token).replace(f"127.0.0.1:{DOCUMENTED_PORT}",
                                                                 f"127.0.0.1:{server.port}")
                assert runnable != command, f"the command reaches neither the server nor a site: {command}"
                result = subprocess.run(["bash", "-c", runnable], cwd=var_dir, capture_output=True, text=True,
                                        timeout=60, check=False)
                assert result.returncode == 0, f"{command}\nexited {result.returncode}: {result.stderr[-500:]}"
                assert_answer(command, shown, result.stdout)
                ran += 1
            assert ran == len(calls) >= 5
        finally:
            server.stop()


def test_the_code_page_names_every_module_of_the_package():
    """docs/contributing/code.rst, "How the code is organised", gives each module its line: none left out."""
    page = CODE_PAGE.read_text(encoding="utf-8")
    modules = [path.relative_to(PACKAGE) for path in PACKAGE.rglob("*.py")
               if "migrations" not in path.parts and path.name != "__init__.py"]
    assert len(modules) > 50
    assert [str(module) for module in modules if f"``{module.name}``" not in page and f"{module}" not in page] == []
