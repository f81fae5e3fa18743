"""Matching keys and duplicate scores for customers, contacts and leads.

Pure functions without models or queries: the apps store the keys built here and ask `compare()`
whether two records are the same company (F03 duplicate control, see DOMAIN.md).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz
from stdnum.cn.uscc import calc_check_digit

if TYPE_CHECKING:
    import opencc

__all__ = [
    "SAME",
    "SIMILAR_THRESHOLD",
    "Match",
    "MatchKeys",
    "compare",
    "email_domain",
    "format_phone",
    "keys_for",
    "name_similarity",
    "normalize_company_name",
    "normalize_credit_code",
    "normalize_email",
    "normalize_phone",
    "pinyin_keys",
    "validate_credit_code",
]

SAME: float = 100.0
"""The score of a match on an identifying key (credit code, phone, e-mail, equal name)."""

SIMILAR_THRESHOLD: float = 85.0
"""From this name similarity on, two records are shown as possible duplicates."""


def _words(text: str) -> list[str]:
    """Lists of names are written as space-separated words: a reader scans them like a table."""
    return text.split()


# --- Region names -----------------------------------------------------------------------------
# Written down as data rather than taken from a package: the list changes rarely and only its
# short names matter here. Province-level divisions, then prefecture-level ones by province.

PROVINCES = _words(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
)

PREFECTURES = _words(
    # 河北 山西 内蒙古
    "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 "
    "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁 "
    "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 兴安 锡林郭勒 阿拉善 "
    # 辽宁 吉林 黑龙江
    "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛 "
    "长春 四平 辽源 通化 白山 松原 白城 延边 "
    "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化 大兴安岭 "
    # 江苏 浙江 安徽
    "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 "
    "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 "
    "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城 "
    # 福建 江西 山东
    "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 "
    "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶 "
    "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 "
    # 河南 湖北 湖南
    "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 "
    "济源 "
    "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施 仙桃 潜江 天门 神农架 "
    "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西 "
    # 广东 广西 海南
    "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 "
    "潮州 揭阳 云浮 "
    "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左 "
    "海口 三亚 三沙 儋州 "
    # 四川 贵州 云南 西藏
    "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 "
    "阿坝 甘孜 凉山 "
    "贵阳 六盘水 遵义 安顺 毕节 铜仁 黔西南 黔东南 黔南 "
    "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 红河 文山 西双版纳 大理 德宏 怒江 迪庆 "
    "拉萨 日喀则 昌都 林芝 山南 那曲 阿里 "
    # 陕西 甘肃 青海 宁夏 新疆
    "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛 "
    "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏 甘南 "
    "西宁 海东 海北 黄南 果洛 玉树 海西 "
    "银川 石嘴山 吴忠 固原 中卫 "
    "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉 博尔塔拉 巴音郭楞 阿克苏 克孜勒苏 喀什 和田 伊犁 塔城 "
    "阿勒泰 石河子"
)

# Districts and county-level cities, stripped only with their 区/县/市 ending: bare, most of them
# are ordinary words or trade names (南山, 海淀, 光明).
DISTRICTS = _words(
    "东城 西城 朝阳 丰台 石景山 海淀 门头沟 房山 通州 顺义 昌平 大兴 怀柔 平谷 密云 延庆 "
    "黄浦 徐汇 长宁 静安 普陀 虹口 杨浦 闵行 宝山 嘉定 浦东 金山 松江 青浦 奉贤 崇明 "
    "和平 河东 河西 南开 河北 红桥 东丽 西青 津南 北辰 武清 宝坻 滨海 宁河 静海 蓟州 "
    "渝中 江北 南岸 沙坪坝 九龙坡 大渡口 渝北 巴南 北碚 万州 涪陵 长寿 江津 合川 永川 璧山 两江 "
    "福田 罗湖 南山 盐田 宝安 龙岗 龙华 坪山 光明 前海 大鹏 "
    "越秀 海珠 荔湾 天河 白云 黄埔 番禺 花都 南沙 从化 增城 顺德 南海 禅城 "
    "雄安 工业园 高新 经济技术开发 "
    "昆山 江阴 张家港 常熟 太仓 宜兴 义乌 慈溪 余姚 晋江 石狮 福清 "
)

# Prefecture names that are also common words or famous trade names (阿里巴巴, 白银, 大理石):
# stripped only when written with their ending (阿里地区, 白银市).
AMBIGUOUS_BARE = frozenset(
    _words(
        "阿里 白银 朝阳 中山 普洱 红河 文山 大理 黄山 山南 海北 海东 海西 大同 来宾 北海 安康 玉树 "
        "怒江 甘南 黄南 吉安 长治 三明 中卫 德宏 通化 兴安 天门 仙桃 白山 凉山 神农架 石河子"
    )
)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first, so 广东省 wins over 广东."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


# 广西壮族自治区, 黔东南苗族侗族自治州, but 新疆维吾尔自治区 without 族.
_REGION_ENDING = rf"(?:(?:[{_HAN}]{{1,4}}?族|维吾尔)*自治[州区县]|特别行政区|地区|省|市|盟)"
_REGION_WITH_ENDING = (
    rf"(?:(?:{_alternation(PROVINCES + PREFECTURES)}){_REGION_ENDING}"
    rf"|(?:{_alternation(DISTRICTS)})(?:新区|区|县|市))"
)
_REGION_BARE = _alternation(w for w in PROVINCES + PREFECTURES if w not in AMBIGUOUS_BARE)
_REGION_ANY = rf"(?:{_REGION_WITH_ENDING}|{_alternation(PROVINCES + PREFECTURES)}|中国|大陆)"

_REGION_PREFIX_WITH_ENDING_RE = re.compile(_REGION_WITH_ENDING)
_REGION_PREFIX_BARE_RE = re.compile(_REGION_BARE)
_BRACKET_REGION_RE = re.compile(rf"(?:{_REGION_ANY})+")

# A bare region must leave at least this much, because a two-character rest is usually only
# the industry (青岛啤酒 and 哈尔滨啤酒 are not the same company).
_MIN_REST_AFTER_ENDING = 2
_MIN_REST_AFTER_BARE = 3

# Latin place words seen in brackets of foreign-style names: Acme (Shenzhen) Co., Ltd.
_LATIN_REGIONS = frozenset(
    _words(
        "china prc mainland hongkong hk macau macao taiwan asia asiapacific apac greaterchina "
        "beijing shanghai tianjin chongqing guangdong shenzhen guangzhou dongguan foshan zhuhai "
        "jiangsu suzhou nanjing wuxi changzhou kunshan zhejiang hangzhou ningbo wenzhou "
        "shandong qingdao jinan yantai fujian xiamen fuzhou hubei wuhan hunan changsha sichuan "
        "chengdu shaanxi xian henan zhengzhou anhui hefei liaoning dalian shenyang hainan haikou "
        "tianjing hebei shanxi jiangxi nanchang yunnan kunming guangxi nanning guizhou guiyang"
    )
)

# --- Legal forms ------------------------------------------------------------------------------

_LEGAL_NOTES = _words(
    "有限合伙 普通合伙 特殊普通合伙 有限责任 股份 集团 分公司 总公司 个体工商户 个人独资 "
    "中外合资 中外合作 外商独资 外资 合资 独资"
)
_LATIN_NOTES = frozenset(["lp", "llp", "limitedpartnership", "group", "holdings"])

_HAN_LEGAL_FORMS = _words(
    "集团股份有限公司 集团有限公司 股份有限公司 有限责任公司 有限公司 股份公司 集团公司 "
    "合伙企业 个人独资企业 个体工商户 株式会社 总公司 分公司 公司 集团 "
    "工作室 工厂 厂 商行 经营部 门市部 商店"
)
_BRANCHES = _words("分公司 分厂 分店 办事处")

# Foreign forms as words; punctuation has become spaces by the time they are matched, so
# "Co., Ltd." arrives as "co ltd" and is taken off one word at a time.
_LATIN_LEGAL_FORMS = [
    "company",
    "co",
    "limited",
    "ltd",
    "incorporated",
    "inc",
    "corporation",
    "corp",
    "llc",
    "l l c",
    "llp",
    "gmbh",
    "ag",
    "s a",
    "plc",
    "pte",
    "pty",
    "k k",
    "b v",
    "n v",
    "s r l",
    "s a r l",
    "s p a",
    "group",
]

# A "word character" for Latin forms: letters and digits other than Han characters. A form only
# counts when it is not glued to such a character (the "co" in "acmeco" is not a legal form).
_LATIN_WORD = rf"[^\W_{_HAN}]"
_LEGAL_FORM_RE = re.compile(
    rf"(?:(?P<branch>{_alternation(_BRANCHES)})"
    rf"|{_alternation(_HAN_LEGAL_FORMS)}"
    rf"|(?<!{_LATIN_WORD})(?:"
    + "|".join(
        r"\s*".join(re.escape(part) for part in form.split())
        for form in sorted(_LATIN_LEGAL_FORMS, key=len, reverse=True)
    )
    + r"))\s*$"
)

# A branch is named after its place: 腾达精密科技有限公司深圳分公司. Only looked for after 分公司,
# as trying hundreds of names at every position of every name would be slow.
_TRAILING_REGION_RE = re.compile(rf"(?:{_REGION_ANY})\s*$")

_BRACKETED_RE = re.compile(r"\(([^()]*)\)")
_NOT_WORD_RE = re.compile(r"[\W_]+")
# Spaces stay only between two Latin word characters, so that "acme co ltd" keeps its words
# while "腾达 有限 公司" joins up into a legal form.
_SPACE_RE = re.compile(rf"(?<!{_LATIN_WORD})\s+|\s+(?!{_LATIN_WORD})")

# Enough for any real name; a bound keeps strange input from looping.
_MAX_PASSES = 5


@functools.cache
def _t2s() -> opencc.OpenCC:
    """The OpenCC converter, made on first use: loading its dictionaries costs a few ms."""
    import opencc

    return opencc.OpenCC("t2s")


def _fold(text: str) -> str:
    """Full-width to half-width, traditional to simplified, lower case."""
    text = unicodedata.normalize("NFKC", text)
    text = _t2s().convert(text)
    return unicodedata.normalize("NFKC", text.lower())


def _is_note(content: str) -> bool:
    """Whether a bracketed part only says where the company is or what legal form it has."""
    compact = _NOT_WORD_RE.sub("", content)
    if not compact:
        return True
    if compact in _LATIN_REGIONS or compact in _LATIN_NOTES or compact in _LEGAL_NOTES:
        return True
    return _BRACKET_REGION_RE.fullmatch(compact) is not None


def _drop_notes(text: str) -> str:
    return _BRACKETED_RE.sub(lambda m: " " if _is_note(m.group(1)) else f" {m.group(1)} ", text)


def _drop_legal_forms(text: str) -> str:
    while match := _LEGAL_FORM_RE.search(text):
        text = text[: match.start()].rstrip()
        if match.group("branch"):
            text = _TRAILING_REGION_RE.sub("", text, count=1).rstrip()
    return text


def _rest_length(text: str) -> int:
    return len(text) - text.count(" ")


def _drop_region_prefix(text: str) -> str:
    while True:
        match = _REGION_PREFIX_WITH_ENDING_RE.match(text)
        needed = _MIN_REST_AFTER_ENDING
        if match is None:
            match = _REGION_PREFIX_BARE_RE.match(text)
            needed = _MIN_REST_AFTER_BARE
        if match is None:
            return text
        rest = text[match.end() :].lstrip()
        if _rest_length(rest) < needed:
            return text
        text = rest


def _normalize_once(name: str) -> str:
    text = _drop_notes(_fold(name))
    text = _SPACE_RE.sub("", _NOT_WORD_RE.sub(" ", text)).strip()
    text = _drop_region_prefix(_drop_legal_forms(text))
    return text.replace(" ", "")


def normalize_company_name(name: str) -> str:
    """The comparable core of a company name: trade name and industry, e.g. 腾达精密科技.

    Region prefixes and bracketed regions, legal forms, width, script (traditional or
    simplified), case, punctuation and spaces are all ways of writing the same company, so they
    are folded away. Joining words can expose a further legal form, hence the passes until
    nothing changes: normalising a normalised name never changes it.
    """
    text = name
    for _pass in range(_MAX_PASSES):
        again = _normalize_once(text)
        if again == text:
            break
        text = again
    return text


# --- Pinyin -----------------------------------------------------------------------------------


def pinyin_keys(text: str) -> tuple[str, str]:
    """Full pinyin and initials ("tengdajingmikeji", "tdjmkj") for search and same-sound names.

    Reps search by initials (tdjm) and misspell names with homophones (腾达/藤达); both show in
    pinyin. Latin letters and digits are kept as they are, lower-cased.
    """
    from pypinyin import Style, lazy_pinyin  # Loading its dictionaries takes a while.

    text = unicodedata.normalize("NFKC", text)
    full = "".join(lazy_pinyin(text, style=Style.NORMAL))
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER))
    return _alphanumeric(full), _alphanumeric(initials)


def _alphanumeric(text: str) -> str:
    return "".join(c for c in text.lower() if c.isascii() and c.isalnum())


# --- 统一社会信用代码 ---------------------------------------------------------------------------

CREDIT_CODE_LENGTH = 18
# GB 32100-2015: digits and capital letters without I, O, S, V, Z.
_CREDIT_CODE_CHARACTERS = frozenset("0123456789ABCDEFGHJKLMNPQRTUWXY")
# Position 1, the registration authority: 1-9, A (编制办), N (农业), Y (其他).
_CREDIT_CODE_AUTHORITIES = frozenset("123456789ANY")
_CREDIT_CODE_SEPARATORS_RE = re.compile(r"[\s\-]+")


def normalize_credit_code(value: str) -> str:
    """The code as stored: people paste it with spaces, hyphens, full-width or lower-case."""
    value = unicodedata.normalize("NFKC", value or "")
    return _CREDIT_CODE_SEPARATORS_RE.sub("", value).upper()


def validate_credit_code(value: str) -> str:
    """Return the normalised code or raise `ValidationError` saying what is wrong with it.

    python-stdnum computes the check character, but its validation refuses the authorities
    A, N and Y, so the structure is checked here (DOMAIN.md).
    """
    code = normalize_credit_code(value)
    if len(code) != CREDIT_CODE_LENGTH:
        raise ValidationError(
            _("A unified social credit code must have 18 characters, this one has %(length)d."),
            code="invalid_length",
            params={"length": len(code)},
        )
    wrong = sorted({c for c in code if c not in _CREDIT_CODE_CHARACTERS})
    if wrong:
        raise ValidationError(
            _(
                "A unified social credit code may only contain digits and capital letters "
                "other than I, O, S, V and Z; it must not contain %(characters)s."
            ),
            code="invalid_characters",
            params={"characters": ", ".join(wrong)},
        )
    if code[0] not in _CREDIT_CODE_AUTHORITIES:
        raise ValidationError(
            _(
                "A unified social credit code starts with 1 to 9, A, N or Y, "
                "not with %(character)s."
            ),
            code="invalid_characters",
            params={"character": code[0]},
        )
    expected = calc_check_digit(code[:-1])
    if code[-1] != expected:
        raise ValidationError(
            _(
                "This unified social credit code has a typing error somewhere: with these first "
                "17 characters, the last character should be %(expected)s, not %(actual)s."
            ),
            code="invalid_checksum",
            params={"expected": expected, "actual": code[-1]},
        )
    return code


# --- Phones and e-mail ------------------------------------------------------------------------

# People write a Chinese extension as 转 (0755-86001234转801); phonenumbers knows "ext".
_CHINESE_EXTENSION_RE = re.compile(r"\s*转\s*")


def normalize_phone(value: str, default_region: str = "CN") -> str:
    """The number in E.164 (+8613800138000), so the same phone written differently matches.

    Only the length is checked (a possible number), not the operator ranges: those change
    faster than the phonenumbers metadata, and a CRM must not refuse a new mobile range.
    """
    text = _CHINESE_EXTENSION_RE.sub(" ext ", unicodedata.normalize("NFKC", value or ""))
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or phonenumbers.is_possible_number_with_reason(number)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        raise ValidationError(
            _("This is not a phone number. Landlines need their area code, e.g. 0755-86001234."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """How a stored number is shown: Chinese ones as dialled at home, others internationally."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(value: str) -> str:
    """The address as compared: trimmed, lower-case, full-width ＠ from Chinese input folded."""
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def email_domain(value: str) -> str:
    """The part after the @, or "" when there is none."""
    local, at, domain = normalize_email(value).rpartition("@")
    return domain if at and local else ""


# --- Scoring ----------------------------------------------------------------------------------


_BELOW_SAME = 99.0


@functools.lru_cache(maxsize=4096)
def _full_pinyin(name_key: str) -> str:
    return pinyin_keys(name_key)[0]


def _similarity(name_a: str, pinyin_a: str, name_b: str, pinyin_b: str) -> float:
    if not name_a or not name_b:
        return 0.0
    if name_a == name_b:
        return 100.0
    by_pinyin = fuzz.ratio(pinyin_a, pinyin_b) if pinyin_a and pinyin_b else 0.0
    # Homophones (腾达/藤达) have equal pinyin, but only equal names are certainly the same.
    return min(max(fuzz.ratio(name_a, name_b), by_pinyin), _BELOW_SAME)


def name_similarity(a_norm: str, b_norm: str) -> float:
    """0-100 for two normalised names; the better of the characters and their pinyin.

    Pinyin catches typing errors of the input method (腾达精密 / 腾达精蜜) that characters alone
    score low on. An empty name is similar to nothing.
    """
    return _similarity(a_norm, _full_pinyin(a_norm), b_norm, _full_pinyin(b_norm))


@dataclass(frozen=True)
class MatchKeys:
    """What a customer, contact or lead is matched on, all normalised; "" or () when unknown."""

    name_key: str = ""
    pinyin_full: str = ""
    pinyin_initials: str = ""
    credit_code: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """Why two records look like the same company; kind "same" is certain, "similar" a hint."""

    kind: Literal["same", "similar"]
    score: float
    reasons: list[str] = field(default_factory=list)


def keys_for(
    *,
    legal_name: str = "",
    short_name: str = "",
    credit_code: str = "",
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
) -> MatchKeys:
    """Build the keys of one record from what was typed.

    The legal name is preferred; a lead often has only a short name at first. Values that do
    not parse are left out instead of raising: matching must work on imperfect data, and
    validation is the form's job.
    """
    if isinstance(phones, str):  # One number passed alone must not become one per digit.
        phones = (phones,)
    if isinstance(emails, str):
        emails = (emails,)
    name_key = normalize_company_name(legal_name) or normalize_company_name(short_name)
    pinyin_full, pinyin_initials = pinyin_keys(name_key) if name_key else ("", "")
    return MatchKeys(
        name_key=name_key,
        pinyin_full=pinyin_full,
        pinyin_initials=pinyin_initials,
        credit_code=_valid_credit_code_or_blank(credit_code),
        phones=_unique(_valid_phones(phones)),
        emails=_unique(_valid_emails(emails)),
    )


def _valid_credit_code_or_blank(value: str) -> str:
    # Placeholders such as 无 or 000000000000000000 must not make every record "the same".
    try:
        return validate_credit_code(value)
    except ValidationError:
        return ""


def _valid_phones(values: Iterable[str]) -> Iterable[str]:
    for value in values:
        try:
            yield normalize_phone(value)
        except ValidationError:
            continue


def _valid_emails(values: Iterable[str]) -> Iterable[str]:
    for value in values:
        email = normalize_email(value)
        try:
            validate_email(email)
        except ValidationError:
            continue
        yield email


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def compare(a: MatchKeys, b: MatchKeys) -> Match | None:
    """Whether `a` and `b` look like the same company, and why; None when nothing matches."""
    reasons = []
    if a.credit_code and a.credit_code == b.credit_code:
        reasons.append(gettext("same credit code"))
    if set(a.phones) & set(b.phones):
        reasons.append(gettext("same phone"))
    if set(a.emails) & set(b.emails):
        reasons.append(gettext("same e-mail"))
    if a.name_key and a.name_key == b.name_key:
        reasons.append(gettext("same name"))
    if reasons:
        return Match(kind="same", score=SAME, reasons=reasons)
    score = _similarity(a.name_key, a.pinyin_full, b.name_key, b.pinyin_full)
    if score >= SIMILAR_THRESHOLD:
        reason = gettext("similar name (%(score)d%%)") % {"score": round(score)}
        return Match(kind="similar", score=score, reasons=[reason])
    return None
