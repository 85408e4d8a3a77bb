"""The commands' help in the language of the messages.

Click takes a command's help when the command is defined, at import, before ``--lang`` is read,
and a test process runs commands in both languages: so the help stays English in the code (the
docstrings and ``help=`` texts are the msgids, as ``_()`` texts are) and is translated each time
a command is handed out, paragraph by paragraph: the first paragraph of a docstring (or a
``short_help``) is the one-line help shown in ``weidang --help``. ``extract`` lets ``pybabel
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


def paragraphs(help_text: str) -> list[str]:
    """The paragraphs of a help text, each on one line: the messages the catalog knows it by
    (click wraps them again when it shows them)."""
    return [" ".join(p.split()) for p in inspect.cleandoc(help_text).split("\n\n")]


def one_line(help_text: str) -> str:
    """The first paragraph of a help text on one line."""
    return paragraphs(help_text)[0]


def translate(command: click.Command) -> click.Command:
    """``command`` (and its subcommands) with its one-line help in the process's language."""
    help_text, short_help = command.__dict__.setdefault(_ORIGINAL, (command.help, command.short_help))
    if help_text:
        translated = [gettext(p) for p in paragraphs(help_text)]
        first = translated[0]
        command.help = "\n\n".join(translated)
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
            if isinstance(short, str) and short.strip():
                yield node.lineno, "_", one_line(short), []
            for paragraph in paragraphs(ast.get_docstring(node, clean=True) or ""):
                if paragraph:
                    yield node.lineno, "_", paragraph, []
