"""Government-style Chinese text for generated posts, chosen deterministically by a random.Random."""

from __future__ import annotations

import random

PLACES = ["绥德县", "临江市", "清河区", "南湖镇", "东城街道", "北山县", "青云市", "安平县"]
AGENCIES = ["档案局", "卫生健康委员会", "政务服务中心", "应急管理局", "融媒体中心", "人民政府办公室",
            "疾病预防控制中心", "市场监督管理局", "教育局", "退役军人事务局"]
SUBJECTS = ["关于做好近期疫情防控工作的通知", "档案开放鉴定工作", "政务服务“一网通办”",
            "防汛抗旱应急预案", "城乡居民医保缴费", "历史档案数字化项目", "重点人群疫苗接种",
            "优化营商环境十条措施", "老旧小区改造工程", "政务公开目录更新"]
VERBS = ["印发", "召开会议部署", "组织开展", "全面推进", "专题研究", "公开征求意见", "通报",
         "启动", "督导检查", "扎实推进"]
TAILS = ["请广大市民相互转告。", "具体安排以后续通知为准。", "欢迎社会各界监督。",
         "相关档案已移交归档。", "详情请关注本账号后续发布。", "咨询电话：12345。",
         "请各单位认真贯彻落实。", "疫情防控措施将根据形势动态调整。"]
HASHTAGS = ["疫情防控", "政务公开", "档案里的故事", "通知公告", "便民服务", "国际档案日"]


def sentence(rng: random.Random) -> str:
    return (f"{rng.choice(PLACES)}{rng.choice(AGENCIES)}{rng.choice(VERBS)}"
            f"{rng.choice(SUBJECTS)}，{rng.choice(TAILS)}")


def paragraph(rng: random.Random, sentences: int) -> str:
    return "".join(sentence(rng) for _ in range(sentences))


def account_name(index: int, rng: random.Random) -> str:
    return f"{PLACES[index % len(PLACES)]}{rng.choice(AGENCIES)}{index + 1:03d}"


def title(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)}{rng.choice(VERBS)}{rng.choice(SUBJECTS)}"
