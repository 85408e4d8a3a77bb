"""The command line speaks Simplified Chinese to a person who did not choose (LANG=zh_CN.UTF-8,
no WEIDANG_LANG), from the one message catalog; `--lang en` gives English; identifiers, paths
and `--json` stay as they are."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.job import HarvestSummary
from weidang.cli import main
from weidang.commands.harvest import print_summary

pytestmark = pytest.mark.default_language

WEIDANG = str(Path(sys.executable).with_name("weidang"))


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> Path:
    """The demo's home: harvested posts, their index, a sealed collection."""
    home = tmp_path_factory.mktemp("chinese-demo") / "demo"
    done = subprocess.run([WEIDANG, "demo", "--home", str(home)], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return home


@pytest.fixture(autouse=True)
def chinese_locale(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("WEIDANG_LANG", raising=False)


def weidang(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--home", str(home), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def a_post(capsys, home: Path) -> str:
    code, out, _ = weidang(capsys, home, "search", "--json", "--limit", "1")
    hit = json.loads(out.splitlines()[0])
    return f"{hit['platform']}:{hit['post_id']}"


def test_status_in_chinese(demo_home, capsys):
    code, out, _ = weidang(capsys, demo_home, "status")
    assert code == 0
    assert "定时采集服务：未运行。时间均为北京时间（UTC+08:00）。" in out
    assert "账号" in out and "状况" in out and "上次采集" in out and "下次采集" in out
    assert "正常" in out and "weibo:" in out  # the health word translated, the account id as it is
    assert "Daemon" not in out and "HEALTH" not in out


def test_status_json_is_not_translated(demo_home, capsys):
    code, out, _ = weidang(capsys, demo_home, "status", "--json")
    data = json.loads(out)
    assert code == 0 and data["daemon"] == "not running"
    assert {a["health"] for a in data["accounts"]} <= {"ok", "partial", "never run"}


def test_an_unknown_account_in_chinese(demo_home, capsys):
    code, _, err = weidang(capsys, demo_home, "accounts", "remove", "weibo:1234567890")
    assert code == 1
    assert err.strip() == "错误：weibo:1234567890 未登记；`weidang accounts list` 可列出已登记的账号。"


def test_lang_en_gives_english(demo_home, capsys):
    code, _, err = weidang(capsys, demo_home, "--lang", "en", "accounts", "remove", "weibo:1234567890")
    assert code == 1 and err.strip() == ("Error: weibo:1234567890 is not registered; "
                                         "`weidang accounts list` shows the registered accounts.")
    capsys.readouterr()
    assert main(["--lang", "en", "--home", str(demo_home), "status"]) == 0
    assert "Daemon: not running. Times are China time (UTC+08:00)." in capsys.readouterr().out


def test_weidang_lang_chooses_english_over_lang(demo_home, capsys, monkeypatch):
    monkeypatch.setenv("WEIDANG_LANG", "en")
    code, out, _ = weidang(capsys, demo_home, "search", "没有这样的词语组合")
    assert code == 0 and out.strip() == "0 post versions match 没有这样的词语组合."


def test_a_language_weidang_does_not_speak_is_refused(demo_home, capsys):
    code, _, err = weidang(capsys, demo_home, "--lang", "fr", "status")
    assert code == 2 and "zh_CN" in err and "en" in err


def test_search_without_hits_in_chinese(demo_home, capsys):
    code, out, _ = weidang(capsys, demo_home, "search", "没有这样的词语组合")
    assert code == 0 and out.strip() == "共 0 个帖文版本符合“没有这样的词语组合”。"


def test_search_hits_in_chinese(demo_home, capsys):
    code, out, _ = weidang(capsys, demo_home, "search", "--limit", "1")
    assert code == 0
    assert "索引中共有" in out and "以下为最相关的 1 个：" in out and "演示数据" in out
    assert "发布于" in out and "内容 SHA-256" in out and "WARC 文件" in out


def test_show_and_appraise_in_chinese(demo_home, capsys, tmp_path):
    home = tmp_path / "demo"
    shutil.copytree(demo_home, home)
    post = a_post(capsys, home)
    code, _, err = weidang(capsys, home, "appraise", post, "--keep", "--retention", "永久")
    assert code == 1 and err.startswith("错误：") and "尚未设置全宗号、门类代码和机构代码" in err
    account = json.loads(weidang(capsys, home, "show", post, "--json")[1])["account"]
    code, out, _ = weidang(capsys, home, "accounts", "codes", account, "--fonds", "0194",
                           "--category", "XM", "--unit", "BGS")
    assert code == 0 and out.strip() == f"{account}：此后归档的帖文档号为 0194-XM·年度-保管期限-BGS-NNNN。"
    code, out, _ = weidang(capsys, home, "appraise", post, "--keep", "--retention", "永久",
                           "--reviewer", "张档案")
    assert code == 0
    assert f"{post}  归档  永久  档号" in out
    assert "张档案 的 1 项鉴定决定已记录：归档 1，不归档 0。" in out
    code, out, _ = weidang(capsys, home, "show", post)
    assert code == 0
    assert "版本（1）：" in out and "状态事件（0）：" in out and "引用格式：" in out
    # the demo appraised its posts already: this decision is the latest of them
    assert re.search(r"鉴定（\d+ 项决定）：", out) and "归档 永久，鉴定人 张档案" in out
    assert "UTC+08:00" in out  # times for people: China time with the offset
    code, _, err = weidang(capsys, home, "appraise", post, "--discard", "--retention", "永久")
    assert code == 1 and err.strip() == "错误：不归档须说明理由（--reason），以便日后理解这项决定。"


def test_verify_failure_in_chinese(demo_home, capsys, tmp_path):
    home = tmp_path / "demo"
    shutil.copytree(demo_home, home)
    warc = sorted((home / "collections" / "default" / "warcs").glob("*.warc.gz"))[0]
    raw = bytearray(warc.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    warc.write_bytes(bytes(raw))
    code, out, _ = weidang(capsys, home, "verify")
    assert code == 1
    assert out.startswith(f"存档集 {home / 'collections' / 'default'}\n") and "：发现问题。" in out
    assert any(line.split()[:2] == ["损坏", warc.name] for line in out.splitlines())
    assert "sha256 " in out and "sm3 " in out  # the names of the digests stay as they are written


def test_verify_in_an_empty_home_in_chinese(tmp_path, capsys):
    code, _, err = weidang(capsys, tmp_path / "empty", "verify")
    assert code == 1 and err.strip() == f"错误：{tmp_path / 'empty'} 中没有可校验的存档集。"


def test_harvest_summary_in_chinese(capsys):
    summary = HarvestSummary("weibo:1669879400", "h1", outcome="partial", reason="the platform refused",
                             posts_new=3, posts_edited=1, posts_unchanged=20, posts_deleted=2, pages=4,
                             exchanges=40, revisits=5, bytes=2_500_000, reported_total=30,
                             captured_total=26, errors=["a", "b"])
    from weidang import i18n

    i18n.choose(None)  # as a command does: the environment's language
    print_summary(summary)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("weibo:1669879400：部分完成。帖文新增 3，编辑 1，未变 20，删除 2；平台显示共 30 篇，"
                      "档案中有 26 篇（缺 4 篇）。")
    assert out[1] == "  列表页 4 页，请求与应答 40 次（重访记录 5 条），2.5 MB，错误 2 个。"
    assert out[2] == "  停止原因：the platform refused"  # the crawler's own words stay English


def test_what_the_platform_counts_is_said_in_chinese(capsys):
    """WeChat counts pushes (群发), not articles: the unit is said, in the reader's language."""
    from weidang import i18n
    from weidang.errors import in_words

    summary = HarvestSummary("wechat:MzkwMDAwMDAwMQ==", "h1", outcome="ok", posts_new=9,
                             reported_total=3, reported_unit="pushes", captured_total=9)
    i18n.choose(None)
    print_summary(summary)
    assert "平台显示共 3 次群发，档案中有 9 篇帖文" in capsys.readouterr().out
    crawler_says = "the listing showed no post, though the platform reports 3 pushes"
    assert in_words("zh_CN")(crawler_says) == "列表中没有任何帖文，但平台报告有 3 次群发"
    assert in_words("en")(crawler_says) == crawler_says
    assert in_words("zh_CN")(crawler_says.replace("pushes", "posts")).endswith("有 3 篇")


def test_help_lists_the_commands_in_chinese(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "微档（weidang）：把政务微博和微信公众号帖文存档为可信的证据。" in out
    assert "status    显示每个账号的上次采集、下次采集和状况" in out
    assert main(["--lang", "en", "--help"]) == 0
    assert "status    Show each account's last run" in capsys.readouterr().out
    assert main(["appraise", "--help"]) == 0
    out = capsys.readouterr().out
    assert "鉴定帖文：归档（赋予档号）或不归档（说明理由），并确定保管期限。" in out
    assert "保管期限：永久、定期30年 或 定期10年。" in out and "--retention" in out
    assert main(["--lang", "en", "appraise", "--help"]) == 0
    assert "Retention period (保管期限): 永久, 定期30年 or 定期10年." in capsys.readouterr().out


def test_a_wrong_setting_in_chinese(tmp_path, capsys):
    code, _, err = weidang(capsys, tmp_path / "home", "--set", "NO_SUCH_SETTING=1", "status")
    assert code == 1 and err.strip() == "错误：没有设置 NO_SUCH_SETTING（来自 --set）。"


def _literal_text(node: ast.expr) -> str | None:
    """The words written in a string, an f-string or a sum of them (placeholders left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp):
        return f"{_literal_text(node.left) or ''} {_literal_text(node.right) or ''}"
    return None


def test_no_message_of_the_command_line_bypasses_the_catalog():
    """What the command line prints or raises for people goes through `_()`: a sentence written
    straight into `click.echo`, a click exception or an error would stay English in Chinese."""
    english = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")  # two English words in a row
    root = Path(__file__).resolve().parent.parent / "weidang"
    bypassing = []
    for path in sorted([*root.glob("*.py"), *(root / "commands").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("echo", "write", "prompt", "ClickException", "UsageError", "BadParameter") \
                    or name.endswith("Error"):
                text = _literal_text(node.args[0])
                if text and english.search(text):
                    bypassing.append(f"{path.name}:{node.lineno}: {text[:60]}")
    assert not bypassing, bypassing


def test_the_index_lag_warning_is_said_in_the_language_asked_for():
    """The web server asks for the reader's language, whatever the process's is."""
    from catalog.index_feed import IndexLag
    from weidang.indexing import lag_words

    assert lag_words(IndexLag(5, 5, False), "zh_CN") is None
    said = lag_words(IndexLag(3, 5, True), "zh_CN")
    assert said.startswith("警告：检索索引中有 3 个帖文版本，目录数据库中有 5 个")
    assert lag_words(IndexLag(3, 5, True), "en").startswith("Warning: the search index holds 3 post versions")
    assert "has not taken in" in lag_words(IndexLag(5, 5, True), "en")
