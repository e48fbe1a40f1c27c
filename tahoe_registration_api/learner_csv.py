"""
Read a CSV of learners line by line (never whole): what a registration job and the import command take.

A header row names the columns: ``username``, ``email`` and ``name`` are required;
``password``, ``send_activation_email``, ``language``, ``ref``, ``courses`` (course keys
separated by ``;``) and ``mode`` are optional, and so are
the fields of the LMS's extension form, by their names (the driver names them); others are
ignored. A file that cannot be read as such (no header, a required column missing, bytes that
are not UTF-8, a row with more fields than the header) raises ``InvalidJobFile`` naming the line.
"""

import csv

from tahoe_registration_api.exceptions import InvalidJobFile
from tahoe_registration_api.i18n import gettext_noop, message

REQUIRED_COLUMNS = ("username", "email", "name")
OPTIONAL_COLUMNS = ("password", "send_activation_email", "language", "ref", "courses", "mode")


def _text_lines(stream):
    """Yield the stream's lines decoded as UTF-8 (a BOM at the start is dropped); refuse other bytes naming the line."""
    number = 0
    while True:
        raw = stream.readline()
        if not raw:
            return
        number += 1
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            problem = message(gettext_noop("not UTF-8 text (byte 0x{byte} at column {column})."),
                              byte=f"{raw[exc.start]:02x}", column=exc.start + 1)
            raise InvalidJobFile(number, problem) from exc
        yield text


def _header(reader, extension_columns=()):
    """Read the header row and return the column names in order, checked."""
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    except csv.Error as exc:
        raise InvalidJobFile(reader.line_num or 1, message(gettext_noop("not CSV ({problem})."), problem=exc)) from exc
    if header is None:
        raise InvalidJobFile(1, message(gettext_noop("the file is empty; it needs a header row naming the columns "
                                                     "{columns}."), columns=", ".join(REQUIRED_COLUMNS)))
    names = [cell.strip().lower() for cell in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        lacks = (gettext_noop("the header lacks the columns {missing}; it needs {required} and may have {optional}.")
                 if len(missing) > 1 else
                 gettext_noop("the header lacks the column {missing}; it needs {required} and may have {optional}."))
        raise InvalidJobFile(reader.line_num, message(
            lacks, missing=", ".join(missing), required=", ".join(REQUIRED_COLUMNS),
            optional=", ".join(OPTIONAL_COLUMNS + tuple(extension_columns))))
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise InvalidJobFile(reader.line_num, message(gettext_noop("the header names {columns} more than once."),
                                                      columns=", ".join(repeated)))
    return names


def read_learners(stream, extension_columns=()):
    """
    Yield ``(line, item)`` for each learner of a CSV read from the binary ``stream`` (anything with ``readline``).

    ``line`` is the line the learner starts on (the header is line 1); ``item`` holds the
    learner's non-empty values of the known columns, as a single call's body would.
    ``extension_columns`` names the LMS's extension form's fields: known columns too.
    """
    reader = csv.reader(_text_lines(stream), strict=True)
    names = _header(reader, extension_columns)
    columns = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + tuple(extension_columns)
    known = [(index, name) for index, name in enumerate(names) if name in columns]
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidJobFile(line, message(gettext_noop("not CSV ({problem})."), problem=exc)) from exc
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) > len(names):
            raise InvalidJobFile(line, message(
                gettext_noop("it has {fields} fields; the header names {columns} columns."),
                fields=len(row), columns=len(names)))
        item = {name: row[index] for index, name in known if index < len(row) and row[index] != ""}
        yield line, item
