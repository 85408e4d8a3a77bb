"""The commands' help in the language of the messages.

Click takes a command's help when the command is defined, at import, before ``--lang`` is read,
and a test process runs commands in both languages: so the help stays English in the code (the
docstrings and ``help=`` texts are the msgids, as ``_()`` texts are) and is translated each time
a command is handed out. The first paragraph of a docstring (or a ``short_help``) is the one-line
help shown in ``weidang --help`` and at the top of a command's own help, and each option's
``help`` is translated; the paragraphs after the first stay English. ``extract`` lets ``pybabel
extract`` find these messages (``weidang/locale/babel.cfg``).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from typing import IO, Any

import click

from weidang.i18n import gettext

# The English texts of each command, kept the first time it is translated.
_ORIGINAL = "_weidang_english_help"


def one_line(help_text: str) -> str:
    """The first paragraph of a help text on one line: the message the catalog knows it by."""
    return " ".join(inspect.cleandoc(help_text).split("\n\n")[0].split())


def translate(command: click.Command) -> click.Command:
    """``command`` (and its subcommands) with its one-line help in the process's language."""
    help_text, short_help = command.__dict__.setdefault(_ORIGINAL, (command.help, command.short_help))
    if help_text:
        rest = inspect.cleandoc(help_text).split("\n\n")[1:]
        first = gettext(one_line(help_text))
        command.help = "\n\n".join([first, *rest])
        # Click shortens a help at spaces for the list of commands; Chinese has none.
        command.short_help = gettext(one_line(short_help)) if short_help else first
    elif short_help:
        command.short_help = gettext(one_line(short_help))
    for param in command.params:
        if isinstance(param, click.Option):
            english = param.__dict__.setdefault(_ORIGINAL, param.help)
            param.help = gettext(one_line(english)) if english else english
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            translate(sub)
    return command


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
            options: Any) -> Iterator[tuple[Any, ...]]:
    """A babel extraction method: the ``_()`` messages, as babel's own python method finds them,
    then the one-line help of every command the file defines."""
    from babel.messages.extract import extract_python  # noqa: PLC0415 - babel is for the catalog's tools only

    yield from extract_python(fileobj, keywords, comment_tags, options)
    fileobj.seek(0)
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "option":
            for k in node.keywords:
                if k.arg == "help" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                    yield node.lineno, "_", one_line(k.value.value), []
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr in ("command", "group")):
                continue
            short = next((k.value.value for k in decorator.keywords if k.arg == "short_help"
                          and isinstance(k.value, ast.Constant)), None)
            for text in (short, ast.get_docstring(node, clean=True)):
                if isinstance(text, str) and text.strip():
                    yield node.lineno, "_", one_line(text), []
