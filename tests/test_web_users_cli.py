"""`weidang users`: add, passwd, role, disable, enable, list, as an administrator types them."""

from __future__ import annotations

import io

from catalog import users as catalog_users
from weidang.cli import main
from weidang.commands import users as users_command

PASSWORD = "correct horse battery"


def run(capsys, monkeypatch, *args: str, stdin: str = "") -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_commands_roles_are_the_catalogs():
    assert users_command.ROLES == catalog_users.ROLES


def test_add_change_disable_and_list_users(home, capsys, monkeypatch):
    assert run(capsys, monkeypatch, "users", "list")[1].startswith("No users yet")
    code, out = run(capsys, monkeypatch, "users", "add", "wangfang", "--role", "admin",
                    "--display-name", "王芳", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and "Added wangfang (admin)." in out
    assert run(capsys, monkeypatch, "users", "passwd", "wangfang", "--password-stdin",
               stdin="another long password\n")[0] == 0
    assert run(capsys, monkeypatch, "users", "role", "wangfang", "auditor")[0] == 0
    assert run(capsys, monkeypatch, "users", "disable", "wangfang")[0] == 0
    code, out = run(capsys, monkeypatch, "users", "list", "--history")
    assert code == 0
    assert "wangfang (王芳)  auditor  disabled" in out
    assert [line.split("  ")[2] for line in out.splitlines()[1:]] == [
        "added wangfang role=admin display_name=王芳", "password wangfang",
        "role wangfang from=admin to=auditor", "disabled wangfang"]
    assert PASSWORD not in out and "argon2" not in out
    assert (home / "catalog.sqlite").exists()


def test_mistakes_are_told_in_one_sentence(home, capsys, monkeypatch):
    code, out = run(capsys, monkeypatch, "users", "add", "li", "--password-stdin", stdin="short\n")
    assert code == 1 and out.strip() == "Error: The password is too short: use at least 10 characters."
    code, out = run(capsys, monkeypatch, "users", "disable", "nobody")
    assert code == 1 and "there is no user nobody" in out.lower()
