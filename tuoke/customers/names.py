"""Made-up but plausible Chinese companies and people, for the demo and the benchmark data.

A company name is built as DOMAIN.md describes one: region + trade name (字号) + industry +
legal form, e.g. 深圳市 + 腾达 + 精密科技 + 有限公司, sometimes with the region in brackets after
the trade name or without a region. Everything is drawn from a ``random.Random`` the caller
seeds, so the same seed gives the same companies.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from stdnum.cn.uscc import calc_check_digit

from .matching import _words

# Characters trade names are made of: auspicious, solid, modern.
TRADE_NAME_CHARACTERS = _words(
    "华 信 达 恒 通 宏 鑫 泰 盛 源 康 瑞 嘉 德 兴 隆 中 天 海 金 新 安 永 正 远 博 创 联 汇 明 "
    "晨 星 辉 凯 奥 豪 宇 峰 越 鼎 启 融 佳 益 祥 昌 荣 宝 丰 富 旭 阳 光 锦 云 龙 凤 腾 飞 翔 "
    "卓 誉 尚 诚 立 鸿 亿 美 聚 智 慧 睿 维 力 威 迅 捷 顺 利 铭 弘 仁 江 山 林 森 航 拓 展 耀 "
    "晟 煜 璟 瀚 浩 泽 润 沃 策 科 精 欣 舜 禾 麒 麟 骏 驰 锐 灿 普"
)

# Well-known-sounding two-character trade names, used beside the combined ones.
TRADE_NAMES = _words(
    "腾达 华信 恒通 宏远 鑫泰 盛源 康瑞 嘉德 兴隆 中天 海纳 金桥 新锐 安泰 永盛 博创 联创 汇丰 "
    "明辉 晨光 星河 凯达 奥飞 豪迈 宇航 峰岭 越秀 鼎盛 启明 融通 佳禾 益康 祥瑞 昌盛 荣华 宝利 "
    "丰源 富华 旭日 阳光 锦程 云帆 龙腾 凤凰 飞鸿 翔宇 卓越 誉诚 尚品 诚信 立德 鸿运 亿丰 美达"
)

# Industry and feature word → the industry recorded on the customer.
INDUSTRIES: dict[str, str] = {
    "精密科技": "精密制造",
    "精密机械": "精密制造",
    "电子科技": "电子",
    "电子材料": "电子",
    "电子元件": "电子",
    "信息技术": "信息技术",
    "网络科技": "互联网",
    "软件": "软件",
    "软件技术": "软件",
    "数据科技": "软件",
    "云计算": "软件",
    "智能装备": "智能制造",
    "智能科技": "智能制造",
    "机械制造": "机械",
    "机电设备": "机械",
    "自动化设备": "自动化",
    "自动化技术": "自动化",
    "新材料": "新材料",
    "高分子材料": "新材料",
    "化工": "化工",
    "精细化工": "化工",
    "塑胶制品": "塑料橡胶",
    "橡胶制品": "塑料橡胶",
    "包装材料": "包装",
    "包装制品": "包装",
    "纺织": "纺织服装",
    "服饰": "纺织服装",
    "食品": "食品饮料",
    "饮料": "食品饮料",
    "生物医药": "医药",
    "医药科技": "医药",
    "医疗器械": "医疗器械",
    "环保科技": "环保",
    "环境工程": "环保",
    "新能源": "新能源",
    "光伏科技": "新能源",
    "储能科技": "新能源",
    "光电": "光电",
    "光电科技": "光电",
    "照明电器": "照明",
    "建材": "建材",
    "建筑工程": "建筑",
    "装饰工程": "建筑",
    "物流": "物流",
    "供应链管理": "物流",
    "贸易": "贸易",
    "进出口": "贸易",
    "商贸": "贸易",
    "电气": "电气",
    "电气设备": "电气",
    "仪器仪表": "仪器仪表",
    "检测技术": "检测认证",
    "汽车零部件": "汽车",
    "汽车配件": "汽车",
    "模具": "模具",
    "五金制品": "五金",
    "家具": "家具",
    "印刷": "印刷",
    "文化传媒": "传媒",
    "广告": "传媒",
    "教育科技": "教育",
    "农业科技": "农业",
    "电力工程": "电力",
    "通信技术": "通信",
    "通讯设备": "通信",
    "半导体": "半导体",
    "微电子": "半导体",
    "电池": "电池",
    "涂料": "化工",
    "钢结构": "钢铁",
    "金属材料": "钢铁",
    "管业": "管材",
    "阀门": "阀门",
    "泵业": "泵阀",
    "轴承": "轴承",
    "电缆": "电线电缆",
    "线缆": "电线电缆",
    "玻璃": "玻璃",
    "陶瓷": "陶瓷",
    "纸业": "造纸",
    "药业": "医药",
    "日化": "日化",
    "化妆品": "日化",
    "咨询服务": "咨询",
    "人力资源": "人力资源",
    "物业管理": "物业",
    "酒店管理": "酒店",
    "船舶": "船舶",
    "航空科技": "航空",
    "安防科技": "安防",
    "铝业": "有色金属",
    "铜业": "有色金属",
    "饲料": "农业",
    "茶业": "食品饮料",
    "乳业": "食品饮料",
}

LEGAL_FORMS = _words("有限公司 有限公司 有限公司 有限责任公司 股份有限公司 集团有限公司")

# (province, city, dialling code of the city) for regions and landlines.
CITIES: list[tuple[str, str, str]] = [
    ("广东", "深圳", "755"),
    ("广东", "广州", "20"),
    ("广东", "东莞", "769"),
    ("广东", "佛山", "757"),
    ("广东", "珠海", "756"),
    ("广东", "惠州", "752"),
    ("上海", "上海", "21"),
    ("北京", "北京", "10"),
    ("天津", "天津", "22"),
    ("重庆", "重庆", "23"),
    ("江苏", "苏州", "512"),
    ("江苏", "南京", "25"),
    ("江苏", "无锡", "510"),
    ("江苏", "常州", "519"),
    ("浙江", "杭州", "571"),
    ("浙江", "宁波", "574"),
    ("浙江", "温州", "577"),
    ("浙江", "嘉兴", "573"),
    ("福建", "厦门", "592"),
    ("福建", "福州", "591"),
    ("福建", "泉州", "595"),
    ("山东", "青岛", "532"),
    ("山东", "济南", "531"),
    ("山东", "烟台", "535"),
    ("湖北", "武汉", "27"),
    ("湖南", "长沙", "731"),
    ("四川", "成都", "28"),
    ("陕西", "西安", "29"),
    ("河南", "郑州", "371"),
    ("安徽", "合肥", "551"),
    ("辽宁", "大连", "411"),
    ("辽宁", "沈阳", "24"),
]

# Region codes (positions 3-8 of a credit code) of the cities above, by city.
_REGION_CODES = {
    "深圳": "440300",
    "广州": "440100",
    "东莞": "441900",
    "佛山": "440600",
    "珠海": "440400",
    "惠州": "441300",
    "上海": "310000",
    "北京": "110000",
    "天津": "120000",
    "重庆": "500000",
    "苏州": "320500",
    "南京": "320100",
    "无锡": "320200",
    "常州": "320400",
    "杭州": "330100",
    "宁波": "330200",
    "温州": "330300",
    "嘉兴": "330400",
    "厦门": "350200",
    "福州": "350100",
    "泉州": "350500",
    "青岛": "370200",
    "济南": "370100",
    "烟台": "370600",
    "武汉": "420100",
    "长沙": "430100",
    "成都": "510100",
    "西安": "610100",
    "郑州": "410100",
    "合肥": "340100",
    "大连": "210200",
    "沈阳": "210100",
}

SURNAMES = _words(
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 "
    "彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金"
)
GIVEN_NAME_CHARACTERS = _words(
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 玉 萍 红 鹏 辉 建 "
    "文 斌 宇 浩 凯 俊 帆 晨 欣 怡 婷 雪 琳 晶 慧 颖 佳 嘉 志 海 波 宁 峰 磊 亮 飞 鑫 思 雨 博"
)
TITLES = _words(
    "总经理 副总经理 采购经理 采购专员 采购总监 技术总监 财务经理 厂长 董事长 行政主管 项目经理 "
    "生产经理 IT经理 工程师 质量经理 供应链经理 运营总监 销售总监"
)
MOBILE_PREFIXES = _words(
    "130 131 132 135 136 137 138 139 150 151 152 155 158 159 177 180 186 188 189 199"
)

_CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class Company:
    legal_name: str
    short_name: str
    trade_name: str
    industry_word: str
    industry: str
    province: str
    city: str
    area_code: str


def trade_name(rng: random.Random) -> str:
    """A trade name: now and then a well-known-sounding one, mostly two or three characters
    combined (enough combinations that a million companies rarely share a name)."""
    draw = rng.random()
    if draw < 0.05:
        return rng.choice(TRADE_NAMES)
    return "".join(rng.sample(TRADE_NAME_CHARACTERS, 2 if draw < 0.65 else 3))


def company(rng: random.Random, provinces: tuple[str, ...] = ()) -> Company:
    """One company with its legal and short name, industry and region (in one of
    ``provinces`` when given)."""
    name = trade_name(rng)
    word = rng.choice(_INDUSTRY_WORDS)
    cities = [c for c in CITIES if c[0] in provinces] if provinces else CITIES
    province, city, area_code = rng.choice(cities)
    form = rng.choice(LEGAL_FORMS)
    region = city if city == province else city + "市"
    style = rng.random()
    if style < 0.7:
        legal = f"{region}{name}{word}{form}"
    elif style < 0.9:
        legal = f"{name}{word}（{city}）{form}"
    else:
        legal = f"{name}{word}{form}"
    short = name + word[:2] if rng.random() < 0.6 else name
    return Company(legal, short, name, word, INDUSTRIES[word], province, city, area_code)


_INDUSTRY_WORDS = sorted(INDUSTRIES)


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN_NAME_CHARACTERS)
    if rng.random() < 0.7:
        given += rng.choice(GIVEN_NAME_CHARACTERS)
    return rng.choice(SURNAMES) + given


def mobile(number: int) -> str:
    """The ``number``-th of 2 billion distinct mobiles in E.164, spread over the operators."""
    prefix = MOBILE_PREFIXES[number % len(MOBILE_PREFIXES)]
    # A fixed odd multiplier walks all 10^8 endings before repeating, out of order.
    ending = (number // len(MOBILE_PREFIXES) * 7_919_371 + 12_345_678) % 100_000_000
    return f"+86{prefix}{ending:08d}"


def landline(area_code: str, number: int) -> str:
    ending = (number * 48_271 + 86_001_234) % 10_000_000
    return f"+86{area_code}{ending + (20_000_000 if len(area_code) > 2 else 60_000_000):08d}"


def credit_code(city: str, number: int) -> str:
    """A unified social credit code with a valid check character (enterprise, the city's
    region code), distinct for every ``number`` below 31^9."""
    organisation = []
    value = number * 104_729 + 7
    for _position in range(9):
        value, digit = divmod(value, len(_CREDIT_CODE_CHARACTERS))
        organisation.append(_CREDIT_CODE_CHARACTERS[digit])
    body = "91" + _REGION_CODES.get(city, "440300") + "".join(organisation)
    return body + calc_check_digit(body)


@functools.cache
def part_pinyin(word: str) -> tuple[str, str]:
    """Full pinyin and initials of one name part (cached: parts repeat across names)."""
    from .matching import pinyin_keys

    return pinyin_keys(word)


def domain(company: Company) -> str:
    """An internet domain the company could own: tengdajmkj.com."""
    trade = "".join(part_pinyin(character)[0] for character in company.trade_name)
    return f"{trade}{part_pinyin(company.industry_word)[1]}.com"


def website(company: Company) -> str:
    return f"https://www.{domain(company)}"
