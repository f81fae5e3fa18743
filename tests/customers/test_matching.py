"""Matching keys and duplicate scores: company names, pinyin, credit codes, phones, e-mail."""

import string

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuoke.customers.matching import (
    SAME,
    SIMILAR_THRESHOLD,
    Match,
    MatchKeys,
    compare,
    email_domain,
    format_phone,
    keys_for,
    name_similarity,
    normalize_company_name,
    normalize_credit_code,
    normalize_email,
    normalize_phone,
    pinyin_keys,
    validate_credit_code,
)

# The settings fixture of conftest is function-scoped; these tests do not use it.
fuzz = settings(
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# --- Company names ----------------------------------------------------------------------------

TENGDA = [
    "深圳市腾达精密科技有限公司",
    "腾达精密科技（深圳）有限公司",
    "腾达精密科技(深圳)有限公司",
    "深圳腾达精密科技股份有限公司",
    "廣東省深圳市騰達精密科技有限公司",
    "深圳市腾达精密科技 有限公司",
    "广东深圳腾达精密科技有限公司",
    "腾达精密科技（深圳市）有限责任公司",
    "腾达精密科技有限公司深圳分公司",
    "腾达精密科技集团股份有限公司",
    "深圳市南山区腾达精密科技有限公司",
]


@pytest.mark.parametrize("name", TENGDA)
def test_it_folds_the_ways_of_writing_one_chinese_company(name):
    assert normalize_company_name(name) == "腾达精密科技"


@pytest.mark.parametrize(
    "name", ["Acme Co., Ltd.", "ACME Company Limited", "acme ltd", "Acme Inc.", "Acme Co.,Ltd"]
)
def test_it_folds_foreign_legal_forms(name):
    assert normalize_company_name(name) == "acme"


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("Acme (Shenzhen) Co., Ltd.", "acme"),
        ("Acme (Hong Kong) Limited", "acme"),
        ("Siemens AG", "siemens"),
        ("Bosch GmbH", "bosch"),
        ("Foo Pte. Ltd.", "foo"),
        ("Foo Pty Ltd", "foo"),
        ("Globex Corporation", "globex"),
        ("Globex Corp.", "globex"),
        ("Initech LLC", "initech"),
        ("Tesco PLC", "tesco"),
        ("Nissin K.K.", "nissin"),
        ("Nestlé S.A.", "nestlé"),
        ("Ａｃｍｅ　Ｃｏ．，Ｌｔｄ．", "acme"),
        ("Johnson & Johnson", "johnsonjohnson"),
    ],
)
def test_it_normalises_foreign_names(name, core):
    assert normalize_company_name(name) == core


def test_it_keeps_latin_words_that_only_end_like_a_legal_form():
    assert normalize_company_name("Tabasco") == "tabasco"
    assert normalize_company_name("Volag") == "volag"


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("臺灣騰達電子股份有限公司", "腾达电子"),
        ("香港騰達貿易有限公司", "腾达贸易"),
        ("騰達精密科技（香港）有限公司", "腾达精密科技"),
    ],
)
def test_it_folds_traditional_characters(name, core):
    assert normalize_company_name(name) == core


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("深圳市腾达电子厂", "腾达电子"),
        ("腾达五金商行", "腾达五金"),
        ("腾达建材经营部", "腾达建材"),
        ("腾达设计工作室", "腾达设计"),
        ("深圳市腾达投资合伙企业（有限合伙）", "腾达投资"),
        ("腾达控股集团有限公司", "腾达控股"),
        ("内蒙古伊利实业集团股份有限公司", "伊利实业"),
        ("新疆维吾尔自治区天山腾达有限公司", "天山腾达"),
        ("延边朝鲜族自治州腾达食品有限公司", "腾达食品"),
        ("北京字节跳动科技有限公司", "字节跳动科技"),
    ],
)
def test_it_removes_chinese_legal_forms_and_regions(name, core):
    assert normalize_company_name(name) == core


@pytest.mark.parametrize(
    ("name", "core"),
    [
        # Stripping 青岛 would leave only the industry, and then every brewery is "the same".
        ("青岛啤酒股份有限公司", "青岛啤酒"),
        ("北京华为", "北京华为"),
        # Prefecture names that are also trade names go only with their ending.
        ("阿里云计算有限公司", "阿里云计算"),
        ("白银有色集团股份有限公司", "白银有色"),
        # Never everything: a name that is only a region stays as it is.
        ("深圳市有限公司", "深圳市"),
        ("上海", "上海"),
        # A bracket that is neither region nor legal form is part of the name.
        ("腾达（国际）贸易有限公司", "腾达国际贸易"),
    ],
)
def test_it_does_not_strip_too_much(name, core):
    assert normalize_company_name(name) == core


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("深圳市腾达精密科技有限公司", "深圳市腾飞精密科技有限公司"),
        ("华为技术有限公司", "华为终端有限公司"),
        ("青岛啤酒股份有限公司", "哈尔滨啤酒有限公司"),
        ("Acme Co., Ltd.", "Acme Trading Co., Ltd."),
    ],
)
def test_it_keeps_different_companies_apart(a, b):
    assert normalize_company_name(a) != normalize_company_name(b)


@pytest.mark.parametrize("name", ["", "   ", "有限公司", "Co., Ltd.", "（）", "・・・"])
def test_it_reduces_names_without_a_core_to_nothing(name):
    assert normalize_company_name(name) == ""


# Pieces that interact: regions, legal forms, brackets, separators, Latin forms.
_NAME_PIECES = [
    "深圳",
    "深圳市",
    "广东省",
    "南山区",
    "阿里",
    "腾达",
    "精密",
    "科技",
    "有限",
    "公司",
    "有限公司",
    "分公司",
    "集团",
    "厂",
    "（",
    "）",
    "(",
    ")",
    " ",
    ".",
    ",",
    "·",
    "co",
    "ltd",
    "Co.",
    "l",
    "td",
    "a",
    "é",
    "騰達",
    "Ｃｏ",
    "自治州",
    "族",
]


@fuzz
@given(st.text())
def test_it_normalises_any_text_without_raising_and_idempotently(text):
    once = normalize_company_name(text)
    assert normalize_company_name(once) == once


@fuzz
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=12).map("".join))
def test_it_is_idempotent_on_names_built_from_tricky_pieces(text):
    once = normalize_company_name(text)
    assert normalize_company_name(once) == once


# --- Pinyin -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("腾达精密科技", ("tengdajingmikeji", "tdjmkj")),
        ("重庆", ("chongqing", "cq")),
        ("ABC腾达-X1", ("abctengdax1", "abctdx1")),
        ("騰達", ("tengda", "td")),
        ("", ("", "")),
    ],
)
def test_it_builds_pinyin_keys(text, keys):
    assert pinyin_keys(text) == keys


@fuzz
@given(st.text())
def test_it_builds_pinyin_keys_of_ascii_letters_and_digits_only(text):
    for key in pinyin_keys(text):
        assert all(c in string.ascii_lowercase + string.digits for c in key)


# --- 统一社会信用代码 ---------------------------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def with_check(body: str) -> str:
    """Append the GB 32100-2015 check character, computed as written in DOMAIN.md."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return body + ALPHABET[(31 - total % 31) % 31]


def test_the_helper_agrees_with_a_published_code():
    assert with_check("91110000600037341") == "91110000600037341L"


@pytest.mark.parametrize(
    "body",
    [
        "91440300MA5D12345",  # an enterprise registered in Shenzhen
        "92440300MA5D1234K",  # an individual business
        "93440300MA5D12345",  # a farmers' cooperative
        "11100000000013127",  # a state organ
        "51100000500000123",  # a social organisation
        "A1440300MA5D12345",  # registered by a 编制办
        "N2440300MA5D12345",  # registered by agriculture
        "Y1440300MA5D12345",  # another authority
    ],
)
def test_it_accepts_valid_credit_codes(body):
    code = with_check(body)
    assert validate_credit_code(code) == code


def test_it_accepts_credit_codes_typed_loosely():
    code = with_check("91440300MA5D12345")
    loose = f"  {code[:2]} {code[2:8]}-{code[8:].lower()} "
    assert normalize_credit_code(loose) == code
    assert validate_credit_code(loose) == code
    full_width = code.translate({ord(c): ord(c) + 0xFEE0 for c in code})
    assert validate_credit_code(full_width) == code


def _error(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(value)
    return caught.value


def _message(error: ValidationError) -> str:
    with translation.override("en"):
        return error.messages[0]


@pytest.mark.parametrize(("value", "length"), [("9144030MA5D1234", 15), ("", 0)])
def test_it_refuses_credit_codes_of_the_wrong_length(value, length):
    error = _error(value)
    assert error.code == "invalid_length"
    assert f"must have 18 characters, this one has {length}" in _message(error)


def test_it_refuses_a_credit_code_one_character_short():
    error = _error(with_check("91440300MA5D12345")[:-1])
    assert error.code == "invalid_length"
    assert "this one has 17" in _message(error)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_it_refuses_the_letters_the_standard_leaves_out(letter):
    error = _error("91440300MA5D1234" + letter + "0")
    assert error.code == "invalid_characters"
    assert f"must not contain {letter}" in _message(error)


@pytest.mark.parametrize("first", ["0", "B", "X"])
def test_it_refuses_an_unknown_registration_authority(first):
    error = _error(with_check(first + "1440300MA5D12345"))
    assert error.code == "invalid_characters"
    assert f"not with {first}" in _message(error)


def test_it_names_the_right_check_character():
    code = with_check("91440300MA5D12345")
    wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1) % 31]
    error = _error(code[:-1] + wrong)
    assert error.code == "invalid_checksum"
    assert f"the last character should be {code[-1]}, not {wrong}" in _message(error)


_bodies = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from("123456789ANY"),
    st.lists(st.sampled_from(ALPHABET), min_size=16, max_size=16),
)


@fuzz
@given(_bodies)
def test_it_accepts_any_body_with_its_check_character(body):
    code = with_check(body)
    assert validate_credit_code(code) == code


@fuzz
@given(_bodies, st.sampled_from(ALPHABET))
def test_it_refuses_any_other_check_character(body, other):
    code = with_check(body)
    if other == code[-1]:
        return
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code[:-1] + other)
    assert caught.value.code == "invalid_checksum"


@fuzz
@given(_bodies, st.integers(min_value=1, max_value=16), st.sampled_from(ALPHABET))
def test_it_notices_any_single_mistyped_character(body, position, other):
    # 31 is prime and no weight is a multiple of it, so one changed character always shows.
    code = with_check(body)
    if other == code[position]:
        return
    with pytest.raises(ValidationError):
        validate_credit_code(code[:position] + other + code[position + 1 :])


# --- Phones and e-mail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "region", "e164"),
    [
        ("138 0013 8000", "CN", "+8613800138000"),
        ("13800138000", "CN", "+8613800138000"),
        ("+86 138-0013-8000", "CN", "+8613800138000"),
        ("１３８００１３８０００", "CN", "+8613800138000"),
        ("0755-86001234", "CN", "+8675586001234"),
        ("(0755) 8600 1234", "CN", "+8675586001234"),
        ("0755-86001234转801", "CN", "+8675586001234"),
        ("010-12345678", "CN", "+861012345678"),
        ("+1 415 555 0100", "CN", "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
    ],
)
def test_it_normalises_phones_to_e164(value, region, e164):
    assert normalize_phone(value, default_region=region) == e164


@pytest.mark.parametrize("value", ["", "abc", "123", "12345", "+86 1", "1380013800012345678"])
def test_it_refuses_what_is_not_a_phone_number(value):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(value)
    assert caught.value.code == "invalid_phone"


@fuzz
@given(st.text(max_size=30))
def test_it_either_normalises_a_phone_or_says_it_is_none(text):
    try:
        e164 = normalize_phone(text)
    except ValidationError as error:
        assert error.code == "invalid_phone"
    else:
        assert e164.startswith("+")
        assert e164[1:].isdigit()


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+8613800138000", "138 0013 8000"),
        ("+8675586001234", "0755 8600 1234"),
        ("+861012345678", "010 1234 5678"),
        ("+14155550100", "+1 415-555-0100"),
        ("not a number", "not a number"),
    ],
)
def test_it_formats_phones_for_display(e164, shown):
    assert format_phone(e164) == shown


@pytest.mark.parametrize(
    ("value", "email", "domain"),
    [
        ("  Zhang.San@Tengda.COM ", "zhang.san@tengda.com", "tengda.com"),
        ("zhangsan＠tengda.com", "zhangsan@tengda.com", "tengda.com"),
        ("no-at-sign", "no-at-sign", ""),
        ("@tengda.com", "@tengda.com", ""),
        ("", "", ""),
    ],
)
def test_it_normalises_email_and_finds_its_domain(value, email, domain):
    assert normalize_email(value) == email
    assert email_domain(value) == domain


# --- Scores and comparison --------------------------------------------------------------------


def test_it_scores_equal_names_100_and_empty_names_0():
    assert name_similarity("腾达精密科技", "腾达精密科技") == 100
    assert name_similarity("", "") == 0
    assert name_similarity("腾达精密科技", "") == 0


def test_it_scores_a_same_sound_typing_error_high():
    assert name_similarity("腾达精密", "腾达精蜜") >= SIMILAR_THRESHOLD
    assert name_similarity("腾达精密科技", "藤达精密科技") >= SIMILAR_THRESHOLD


def test_it_scores_different_companies_low():
    assert name_similarity("华为技术", "华为终端") < SIMILAR_THRESHOLD
    assert name_similarity("腾达精密科技", "宏图物流") < SIMILAR_THRESHOLD


def test_it_builds_keys_from_raw_values():
    code = with_check("91440300MA5D12345")
    keys = keys_for(
        legal_name="深圳市腾达精密科技有限公司",
        short_name="腾达",
        credit_code=code.lower(),
        phones=["138 0013 8000", "+86 13800138000", "not a phone", "0755-86001234"],
        emails=[" Info@Tengda.com", "broken@", "info@tengda.com"],
    )
    assert keys == MatchKeys(
        name_key="腾达精密科技",
        pinyin_full="tengdajingmikeji",
        pinyin_initials="tdjmkj",
        credit_code=code,
        phones=("+8613800138000", "+8675586001234"),
        emails=("info@tengda.com",),
    )


def test_it_uses_the_short_name_until_the_legal_name_is_known():
    assert keys_for(short_name="腾达精密").name_key == "腾达精密"


def test_it_takes_a_single_phone_or_email_as_one_value():
    keys = keys_for(phones="13800138000", emails="info@tengda.com")
    assert keys.phones == ("+8613800138000",)
    assert keys.emails == ("info@tengda.com",)


def test_it_leaves_out_a_credit_code_that_is_not_valid():
    assert keys_for(credit_code="无").credit_code == ""
    assert keys_for(credit_code="000000000000000000").credit_code == ""


def _compare(a: MatchKeys, b: MatchKeys) -> Match | None:
    with translation.override("en"):
        return compare(a, b)


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        (
            {"credit_code": with_check("91440300MA5D12345")},
            {"credit_code": with_check("91440300MA5D12345")},
            "same credit code",
        ),
        ({"phones": ["138 0013 8000"]}, {"phones": ["+86 13800138000", "0755-1"]}, "same phone"),
        ({"emails": ["INFO@tengda.com"]}, {"emails": ["info@tengda.com"]}, "same e-mail"),
        (
            {"legal_name": "深圳市腾达精密科技有限公司"},
            {"legal_name": "騰達精密科技（深圳）有限公司"},
            "same name",
        ),
    ],
)
def test_it_finds_the_same_company_by_any_identifying_key(a, b, reason):
    assert _compare(keys_for(**a), keys_for(**b)) == Match(
        kind="same", score=SAME, reasons=[reason]
    )


def test_it_gives_every_reason_for_the_same_company():
    a = keys_for(legal_name="腾达精密科技有限公司", phones=["13800138000"])
    b = keys_for(legal_name="深圳市腾达精密科技有限公司", phones=["138 0013 8000"])
    match = _compare(a, b)
    assert match is not None
    assert match.reasons == ["same phone", "same name"]


def test_it_finds_a_similar_name():
    match = _compare(
        keys_for(legal_name="腾达精密有限公司"), keys_for(legal_name="腾达精蜜有限公司")
    )
    assert match is not None
    assert match.kind == "similar"
    assert SIMILAR_THRESHOLD <= match.score < SAME
    assert match.reasons == [f"similar name ({round(match.score)}%)"]


def test_it_finds_nothing_between_different_companies():
    a = keys_for(legal_name="华为技术有限公司", phones=["13800138000"], emails=["a@huawei.com"])
    b = keys_for(legal_name="华为终端有限公司", phones=["13900139000"], emails=["b@huawei.com"])
    assert _compare(a, b) is None


def test_it_never_matches_on_empty_keys():
    empty = keys_for()
    assert empty == MatchKeys()
    assert _compare(empty, empty) is None
    junk = keys_for(legal_name="有限公司", credit_code="无", phones=["-"], emails=["n/a"])
    assert _compare(junk, junk) is None
