"""Benchmark the embedded search indexes (SQLite FTS5 and tantivy) against ripgrep over the same posts.

    .venv/bin/pip install -e '.[bench]'      # ripgrep's wheel provides `rg`; or apt-get install ripgrep
    .venv/bin/python bench/search_bench.py              # 1,000,000 posts
    .venv/bin/python bench/search_bench.py --posts 50000
    .venv/bin/python bench/search_bench.py --backend tantivy   # one index only
    .venv/bin/python bench/search_bench.py --backend tantivy --tokens-first   # the engine's bound

Generates realistic Chinese government posts (deterministic seed) straight into each embedded
index, writes the same posts as a plain-text dump (one post per line), then times 2-character
and 4-character queries on both and checks that both find the same number of posts.
Two index timings: a page of the 20 best hits (what `weidang search` asks for; its total is
exact up to 10,000, "10,000+" beyond) and the exact count of every matching post (the number
compared with rg). Wall and CPU time are printed for both (rg's CPU from its child process
usage): on a shared machine compare the ratios. ``--tokens-first`` (tantivy) makes every text's
tokens before the clock starts and has the build look them up: what the rest of the build (our
document, tantivy's indexing and merging) allows, however fast tokens were made.
Goal (issue 14): at 1,000,000 posts, index <= 2x the text, rebuild >= 25,000 posts/s, page p95
<= 15 ms and >= 10x faster than rg.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.search import SearchIndex, open_index  # noqa: E402
from catalog.search.document import TEXT_WEIGHTS, IndexedPost  # noqa: E402
from catalog.search.text import index_text_and_words  # noqa: E402

BACKENDS = {"sqlite": "search.sqlite", "tantivy": "search.tantivy"}  # backend: its file in --dir

TOPICS = (
    "疫情防控 档案管理 乡村振兴 安全生产 营商环境 民生保障 基层治理 防汛抗旱 森林防火 食品安全 "
    "交通出行 医疗保障 义务教育 就业创业 养老服务 社会保险 住房保障 城市更新 垃圾分类 文明创建 "
    "科技创新 招商引资 政务服务 一网通办 数字政府 依法行政 信息公开 扫黑除恶 平安建设 消防安全 "
    "疫苗接种 人口普查 退役军人服务 未成年人保护 耕地保护 粮食安全 河长制 蓝天保卫战 碳达峰碳中和 "
    "新能源汽车 高质量发展 共同富裕 减税降费 稳就业 保市场主体 老旧小区改造 农村人居环境整治 "
    "优化营商环境 公共文化服务 全民健身 生态环境保护 水污染防治 校园安全 劳动保障监察"
).split()
ACTIONS = (
    "召开 部署 推进 落实 加强 开展 印发 发布 启动 完成 深化 持续推动 组织 举办 研究 审议通过 "
    "公开征求 通报 表彰 督查 调度 安排 扎实推进 全面加强"
).split()
OBJECTS = (
    "工作会议 专项行动 实施方案 管理办法 指导意见 工作要点 新闻发布会 座谈会 专题培训 现场推进会 "
    "联席会议 检查工作 调研活动 宣传活动 志愿服务 应急演练 集中整治 考核评估 政策解读 常务会议"
).split()
PLACES = (
    "北京市 上海市 广州市 深圳市 杭州市 成都市 武汉市 西安市 南京市 重庆市 天津市 苏州市 长沙市 "
    "郑州市 济南市 青岛市 合肥市 福州市 昆明市 南宁市 朝阳区 海淀区 浦东新区 天河区 福田区 "
    "西湖区 武侯区 江汉区 雁塔区 鼓楼区 渝中区 和平区 姑苏区 岳麓区 金水区 历下区 市南区"
).split()
OPENERS = (
    "近日， 今天上午， 日前， 据悉， 会议强调， 会议指出， 会议要求， 下一步， 截至目前， "
    "记者从有关部门获悉， 有关负责人表示， 根据工作安排， 为进一步做好相关工作，"
).split()
CLOSERS = (
    "确保各项任务落到实处 切实提高人民群众获得感幸福感安全感 坚持以人民为中心的发展思想 "
    "全面贯彻党的二十大精神 守牢安全底线 推动经济社会高质量发展 统筹发展和安全 为群众办实事 "
    "提升治理能力和水平 优化服务流程 广泛听取社会各界意见 压实主体责任 强化监督检查 形成工作合力 "
    "请广大市民相互转告 欢迎社会各界监督"
).split()
ACCOUNTS = [(f"{1000000000 + i * 7919}", f"{place}发布") for i, place in enumerate(PLACES)]

QUERIES_2 = ("疫情 档案 防汛 安全 就业 养老 教育 医疗 环境 消防 粮食 住房 垃圾 招商 科技 文明 "
             "疫苗 减税 会议 整治").split()
QUERIES_4 = ("疫情防控 档案管理 乡村振兴 安全生产 营商环境 民生保障 基层治理 防汛抗旱 森林防火 "
             "食品安全 医疗保障 养老服务 社会保险 垃圾分类 科技创新 政务服务 信息公开 消防安全 "
             "粮食安全 减税降费").split()


def sentence(rng: random.Random) -> str:
    n = rng.randint(2, 9999)
    parts = [rng.choice(OPENERS), rng.choice(PLACES), rng.choice(ACTIONS), rng.choice(TOPICS),
             rng.choice(OBJECTS), "，"]
    if rng.random() < 0.4:
        parts += [f"共计{n}人次参加，"]
    parts += [rng.choice(CLOSERS), "。"]
    return "".join(parts)


def generate(count: int, seed: int) -> Iterator[IndexedPost]:
    rng = random.Random(seed)
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    captured = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for i in range(count):
        account_id, account_name = ACCOUNTS[i % len(ACCOUNTS)]
        wechat = i % 5 == 0
        text = "".join(sentence(rng) for _ in range(rng.randint(2, 5)))
        if not wechat:
            text = f"【{rng.choice(TOPICS)}】" + text
        title = f"{rng.choice(PLACES)}{rng.choice(ACTIONS)}{rng.choice(TOPICS)}" if wechat else ""
        yield IndexedPost(
            platform="wechat" if wechat else "weibo", account_id=account_id,
            account_name=account_name, post_id=f"b{i:07d}", version=1,
            url=f"https://weibo.com/{account_id}/b{i:07d}",
            published_at=start + dt.timedelta(minutes=2 * i), captured_at=captured,
            title=title, text=text, status="live", warc_file="bench.warc.gz",
            warc_record_id=f"<urn:uuid:bench-{i}>", payload_sha256="0" * 64, demo=True,
        )


def find_rg() -> str | None:
    beside = Path(sys.executable).parent / "rg"
    return str(beside) if beside.exists() else shutil.which("rg")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def build(backend: str, count: int, seed: int, db: Path, dump: Path,
          tokens_first: bool = False) -> SearchIndex:
    """Generate the posts into a fresh index and a plain-text dump; print the build numbers."""
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), dump):
        if p.is_dir():
            shutil.rmtree(p)
        p.unlink(missing_ok=True)

    if tokens_first:
        from catalog.search import tantivy_index

        made = tokens_made_first(count, seed)
        tantivy_index.index_text_and_words = made.__getitem__  # type: ignore[assignment]
    gen_seconds = gen_cpu = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    index = open_index(backend, db)
    with dump.open("w", encoding="utf-8") as out:
        def posts() -> Iterator[IndexedPost]:
            nonlocal gen_seconds, gen_cpu
            it = generate(count, seed)
            while True:
                g, gc = time.perf_counter(), time.process_time()
                post = next(it, None)
                if post is not None:
                    out.write(f"{post.title}\t{post.text}\t{post.repost_text}\n")
                gen_seconds += time.perf_counter() - g
                gen_cpu += time.process_time() - gc
                if post is None:
                    return
                yield post

        # What `weidang index rebuild` does: one transaction, then optimize.
        index.rebuild(posts())
    wall = time.perf_counter() - t0 - gen_seconds
    cpu = time.process_time() - c0 - gen_cpu
    if backend == "sqlite":
        index._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    size = index.size_bytes()  # type: ignore[attr-defined]
    dump_bytes = dump.stat().st_size
    print(f"posts: {count:,}  (generation {gen_seconds:.1f} s, dump {dump_bytes/2**20:.0f} MiB)")
    how = "rebuild, tokens made first" if tokens_first else "rebuild"
    print(f"{backend} index build ({how}): wall {wall:.1f} s = {count/wall:,.0f} posts/s, "
          f"CPU {cpu:.1f} s = {count/cpu:,.0f} posts/s; size {size/2**20:.0f} MiB "
          f"({size/count:,.0f} B/post, {size/dump_bytes:.2f}x the text dump)")
    return index


def tokens_made_first(count: int, seed: int) -> dict[str, tuple[str, str]]:
    """Every text field's tokens, as the tantivy index makes them, before any clock starts."""
    made: dict[str, tuple[str, str]] = {}
    for post in generate(count, seed):
        for name in TEXT_WEIGHTS:
            value = getattr(post, name)
            if value and value not in made:
                made[value] = index_text_and_words(value)
    return made


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20240301)
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each index query")
    ap.add_argument("--backend", choices=sorted(BACKENDS), action="append",
                    help="the index to measure (repeatable; default: both)")
    ap.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    ap.add_argument("--tokens-first", action="store_true",
                    help="tantivy: make the tokens before timing the build (the engine's bound)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the index and dump an earlier run left in --dir, if built with "
                    "the same --posts and --seed (skips the build)")
    args = ap.parse_args()
    rg = find_rg()
    if rg is None:
        print("rg not found: pip install -e '.[bench]' or apt-get install ripgrep", file=sys.stderr)
    work = args.dir or Path(tempfile.mkdtemp(prefix="weidang-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    mismatches = 0
    for backend in args.backend or ["tantivy", "sqlite"]:
        db, dump, stamp = work / BACKENDS[backend], work / "posts.txt", work / f"built-{backend}.json"
        built = {"posts": args.posts, "seed": args.seed}
        if args.reuse and stamp.exists() and json.loads(stamp.read_text()) == built:
            index = open_index(backend, db)
            print(f"posts: {args.posts:,}  ({backend} index and dump reused from {work})")
        else:
            stamp.unlink(missing_ok=True)
            index = build(backend, args.posts, args.seed, db, dump,
                          args.tokens_first and backend == "tantivy")
            stamp.write_text(json.dumps(built))
        mismatches += measure(index, rg, dump, args.runs)
        index.close()
        print(f"work dir {work}\n")
    return 1 if mismatches else 0


def measure(index: SearchIndex, rg: str | None, dump: Path, runs: int) -> int:
    """Time the queries on ``index`` and rg; print them; return how many counts disagreed."""
    print(f"\n{'query':<10}{'posts':>9}{'rg posts':>10}{'page p50':>10}{'page p95':>10}"
          f"{'count p50':>11}{'rg':>8}   shown")
    summary: dict[int, tuple[list[float], list[float], list[float]]] = {}
    cpu_summary: dict[int, tuple[list[float], list[float]]] = {}
    mismatches = 0
    for queries in (QUERIES_2, QUERIES_4):
        page_all, count_all, rg_all = [], [], []
        cpus, rg_cpus = [], []
        for q in queries:
            times, count_times = [], []
            for _ in range(runs):
                s, c = time.perf_counter(), time.process_time()
                result = index.search(q, limit=20)
                times.append(time.perf_counter() - s)
                cpus.append(time.process_time() - c)
            for _ in range(max(1, runs // 2)):
                s = time.perf_counter()
                exact = index.count_matches(q)  # type: ignore[attr-defined]
                count_times.append(time.perf_counter() - s)
            page_all += times
            count_all += count_times
            rg_count, rg_time = -1, float("nan")
            if rg:
                s, c = time.perf_counter(), _children_cpu()
                proc = subprocess.run([rg, "-c", "-F", q, str(dump)], capture_output=True,
                                      text=True, check=False)
                rg_time = time.perf_counter() - s
                rg_cpus.append(_children_cpu() - c)
                rg_count = int(proc.stdout.strip() or 0)
                rg_all.append(rg_time)
            # The page's total must agree with the exact count: equal, or the cap when above it.
            consistent = (result.total == exact if result.total_is_exact
                          else exact > result.total)
            bad = not consistent or (rg is not None and rg_count != exact)
            mismatches += bad
            print(f"{q:<10}{exact:>9,}{rg_count:>10,}{pct(times, .5)*1e3:>8.1f}ms"
                  f"{pct(times, .95)*1e3:>8.1f}ms{pct(count_times, .5)*1e3:>9.1f}ms"
                  f"{rg_time*1e3:>6.0f}ms   {result.total_text()}{'  MISMATCH' if bad else ''}")
        summary[len(queries[0])] = (page_all, count_all, rg_all)
        cpu_summary[len(queries[0])] = (cpus, rg_cpus)
    print()
    for n, (page_all, count_all, rg_all) in summary.items():
        line = (f"{n}-character queries: page of 20 hits p50 {pct(page_all, .5)*1e3:.1f} ms, "
                f"p95 {pct(page_all, .95)*1e3:.1f} ms; exact count p50 "
                f"{pct(count_all, .5)*1e3:.1f} ms, p95 {pct(count_all, .95)*1e3:.1f} ms")
        if rg_all:
            line += (f"; rg p50 {pct(rg_all, .5)*1e3:.0f} ms, p95 {pct(rg_all, .95)*1e3:.0f} ms; "
                     f"page speed-up at p50 {pct(rg_all, .5)/pct(page_all, .5):.0f}x, "
                     f"at p95 {pct(rg_all, .95)/pct(page_all, .95):.0f}x")
        print(line)
        cpus, rg_cpus = cpu_summary[n]
        if rg_cpus:
            # CPU time: what the machine's other load does not inflate as much as wall time.
            print(f"   CPU: page p50 {pct(cpus, .5)*1e3:.1f} ms, p95 {pct(cpus, .95)*1e3:.1f} ms; "
                  f"rg p50 {pct(rg_cpus, .5)*1e3:.0f} ms, p95 {pct(rg_cpus, .95)*1e3:.0f} ms; "
                  f"speed-up at p95 {pct(rg_cpus, .95)/max(pct(cpus, .95), 1e-9):.0f}x")
    print(f"counts (exact count = rg, page total consistent): "
          f"{'all equal' if not mismatches else f'{mismatches} MISMATCH(ES)'}")
    return mismatches


if __name__ == "__main__":
    sys.exit(main())
