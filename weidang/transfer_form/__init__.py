"""The 移交登记表 (transfer form) of a package: HTML from a Jinja template (Chinese, English
beside it, self-contained: no script, no outside file), and the same page printed to PDF by
Chromium (``crawler.browser.printing``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape

from weidang.audit_report import WORDS

if TYPE_CHECKING:
    from catalog.transfer.form_data import FormData

HTML_NAME, PDF_NAME = "transfer-form.html", "transfer-form.pdf"


def render_html(form: FormData) -> str:
    env = Environment(loader=PackageLoader("weidang.transfer_form", "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("form.html").render(form=asdict(form), words=WORDS)


def render_files(form: FormData, chromium: str = "") -> dict[str, bytes]:
    """The form's files for the package's ``transfer-form/`` folder: the HTML and its PDF."""
    from crawler.browser.printing import html_to_pdf  # noqa: PLC0415 - Playwright loads only to print

    html = render_html(form)
    return {HTML_NAME: html.encode("utf-8"), PDF_NAME: html_to_pdf(html, chromium)}
