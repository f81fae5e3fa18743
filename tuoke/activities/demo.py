"""The demo's follow-ups, visits, comments and today's plans (a step of ``tuoke demo``).

For each demo customer a year of follow-ups in realistic Chinese that moves along the sale
(初次电话沟通 → 需求调研 → 方案演示 → 报价跟进 → 商务谈判 → 合同细节确认 → 售后回访) as far
as the customer's status went, logged by its owner: calls, WeChat, e-mails, meetings, and
visits checked in at an address in the customer's city. Each follow-up's next step was a
task, done by the follow-up after it; the newest one's is still open (some overdue, some due
today, some coming). Visits planned for the coming days and a few cancelled ones; comments
where a rep and his manager @mention each other. Last, today's plans are generated.

The history is bulk-loaded (dated in the past, written by the owners; every record the
services would make, without their audit entries); visits ahead, cancellations and comments
go through the services. Drawn from fixed seeds; running it again adds nothing but the plan
of a new day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from tuoke.core.models import AuditEntry, Notification
from tuoke.customers import demo as customers_demo
from tuoke.customers.models import Contact, Customer, LifecycleChange, LifecycleStatus
from tuoke.leads.demo import PRODUCTS
from tuoke.org.models import User

from . import services
from .models import Comment, FollowUp, FollowUpKind, Task, Visit
from .plan import NEXT_STEP_SOURCE, generate_plan

SEED = 20261125
OWNERS = tuple(customers_demo.OWNERS)
MANAGERS = {"east": "manager_east", "south": "manager_south"}
# The newest follow-up of an active customer: its next step fell due days ago (overdue),
# falls due today, or lies ahead; the rest have none.
OVERDUE_SHARE, TODAY_SHARE, AHEAD_SHARE = 0.16, 0.10, 0.30
# Follow-ups before the newest with a next step (and its task, done by the one after).
NEXT_STEP_SHARE = 0.35
COMMENT_SHARE = 0.35  # of the reps' active customers with some history
PLANNED_VISITS = {"rep": 3, "manager": 1}  # per person, over the coming six days
CANCELLED_VISITS = 1  # per person, in the past weeks
NO_PLACE_SHARE = 0.1  # visits checked in without the browser's location

# --- What the reps wrote ------------------------------------------------------------------------

# The stages of a sale in order; a customer goes as far as its status says.
FIRST_CALL, RESEARCH, DEMO, QUOTE, NEGOTIATION, CONTRACT, AFTER_SALES, LOST = range(8)

# stage → kind → texts; {contact} {role} {product} {count} {budget} {pct} {pct2} {weeks}
# {months} {when} {reason} are filled per customer.
CONTENTS: dict[int, dict[str, tuple[str, ...]]] = {
    FIRST_CALL: {
        "call": (
            "初次电话沟通：打给{contact}（{role}），介绍了我们的{product}和两个同行业案例。对方"
            "现在用的是进口设备，维护成本高，愿意了解国产替代方案。",
            "初次电话沟通：{contact}说厂里明年有扩产计划，可能需要 {count} 台{product}，"
            "让先发资料看看，再约时间面谈。",
            "电话初访{contact}，对方正在开会，简单介绍后同意加微信，约好下周再详细聊。",
            "初次电话沟通：{contact}（{role}）去年在展会上见过我们的{product}，目前正在做设备"
            "选型，欢迎我们上门交流。",
        ),
        "wechat": (
            "加了{contact}（{role}）的微信，发了公司介绍、{product}彩页和同行业案例视频，"
            "对方回复“先看看，有需要联系你”。",
            "通过老客户介绍加了{contact}的微信，聊了现在的产能瓶颈，发了{product}的技术参数表。",
        ),
        "email": (
            "按{contact}的要求发邮件介绍{product}产品线、资质证书和近三年的主要客户，"
            "抄送了对方技术部。",
        ),
    },
    RESEARCH: {
        "visit": (
            "上门需求调研：和{contact}一起看了生产线，现有设备用了八年以上，故障停机多。初步需求"
            "是 {count} 台{product}，预算约 {budget} 万元，希望{when}前投产。",
            "需求调研：参观车间并和技术部座谈，对方最关心加工精度和交货期，另外要求能接入现有的 "
            "MES 系统。{contact}是采购牵头人，最后由总经理拍板。",
        ),
        "meeting": (
            "线上需求调研会：{contact}和设备科参加，逐项确认了产能目标、场地和用电条件，"
            "整理出需求清单共 12 项。",
        ),
        "call": (
            "电话补充调研：{contact}确认年产能目标提升 30%，{when}要完成设备招标，"
            "预算初步定在 {budget} 万元左右。",
        ),
    },
    DEMO: {
        "meeting": (
            "方案演示：给{contact}和技术团队讲解了{product}整体方案，演示了远程运维平台。"
            "对方对节能数据很感兴趣，问了很多售后细节。",
        ),
        "visit": (
            "带工程师上门做方案演示，用对方的样件现场试加工，精度达到图纸要求，{contact}"
            "表示会向总经理推荐。",
            "请{contact}带两位技术员来我们展厅看{product}实机演示，对方对换型速度评价很高，"
            "提出希望增加自动上下料。",
        ),
        "other": ("寄出样件测试报告并远程讲解方案，{contact}要求补充和现有设备的能耗对比数据。",),
    },
    QUOTE: {
        "email": (
            "邮件发送正式报价：{product} {count} 台，总价 {budget} 万元（含税、含安装调试和一年"
            "质保），报价有效期 30 天。",
            "邮件发送补充报价：增加自动上下料选配，合计 {budget} 万元，交货期 {weeks} 周。",
        ),
        "wechat": (
            "微信跟进报价：{contact}说报价已提交领导审批，另一家供应商的报价比我们低 {pct}% "
            "左右，希望我们再考虑一下价格。",
            "微信把修改后的报价单发给{contact}，拆分了设备费和安装调试费，对方说这样内部好走流程。",
        ),
        "call": (
            "电话跟进报价进度：{contact}反馈今年预算卡在 {budget} 万元以内，问能否分两期付款。",
            "电话沟通报价：{contact}说技术评分我们排第一、价格排第二，让我们给个最终价。",
        ),
    },
    NEGOTIATION: {
        "visit": (
            "上门商务谈判：和{contact}、采购总监谈价格和付款方式。对方要求降价 {pct}%、付款 "
            "3-6-1，我方同意让利 {pct2}%，质保延长一年。",
            "陪经理上门拜访对方总经理，谈定了整体合作框架，价格按让利 {pct2}% 执行，付款方式"
            "等对方财务确认。",
        ),
        "meeting": (
            "商务谈判会：双方确认最终价格 {budget} 万元，付款方式为预付 30%、到货 60%、验收 "
            "10%，交货期 {weeks} 周。",
            "线上谈判会：对方采购和财务参加，分歧集中在验收付款比例，最后约定验收款 10%、"
            "质保金 5%。",
        ),
        "call": (
            "电话沟通谈判细节：{contact}希望包含两次免费培训和一套备件包，已请示经理，同意提供"
            "备件包，培训按一次计。",
        ),
    },
    CONTRACT: {
        "wechat": (
            "合同细节确认：交货期 {weeks} 周、验收标准和违约条款已和{contact}逐条核对，"
            "对方法务提了两处修改意见。",
        ),
        "email": ("邮件发送合同修订版，按对方法务意见调整了验收标准和质保条款，等待对方盖章。",),
        "call": ("电话确认合同细节：开票信息、收货地址和安装时间都已确认，合同本周内寄出。",),
        "other": ("合同双方已盖章，原件已快递寄回，首付款预计下周到账。",),
    },
    AFTER_SALES: {
        "call": (
            "售后回访：设备运行 {months} 个月，{contact}反馈整体稳定，产能提升明显，提到二期"
            "可能再上 {count} 台。",
            "售后回访：{contact}反馈有一台设备偶发主轴报警，已安排工程师远程排查，客户对响应"
            "速度满意。",
            "电话回访{contact}：操作工已能独立编程，保养按计划进行，对售后工程师评价不错。",
        ),
        "visit": (
            "上门售后回访并做季度保养，给操作工做了一次培训。{contact}希望明年续签维保合同。",
            "上门验收回访：设备已通过终验收，{contact}在验收单上签了字，提出想加一套自动上下料。",
        ),
        "wechat": (
            "微信回访{contact}，发了设备保养提醒和新品资料，对方说下季度有新产线项目会联系我们。",
            "{contact}发来设备运行照片，问易损件价格，已把备件清单和报价发过去。",
        ),
    },
    LOST: {
        "call": ("回访得知{reason}。{contact}说短期内没有采购计划，保持礼节性联系。",),
        "visit": ("上门了解情况：{reason}。现有设备基本停用，暂无新需求。",),
    },
}
# stage → kind → weight (what reps do at that stage).
KINDS: dict[int, dict[str, int]] = {
    FIRST_CALL: {"call": 6, "wechat": 2, "email": 1},
    RESEARCH: {"visit": 5, "meeting": 2, "call": 1},
    DEMO: {"meeting": 4, "visit": 3, "other": 1},
    QUOTE: {"email": 4, "wechat": 3, "call": 2},
    NEGOTIATION: {"visit": 4, "meeting": 3, "call": 1},
    CONTRACT: {"wechat": 3, "email": 3, "call": 1, "other": 1},
    AFTER_SALES: {"call": 4, "visit": 3, "wechat": 2},
    LOST: {"call": 1, "visit": 1},
}
RESULTS: dict[int, tuple[str, ...]] = {
    FIRST_CALL: ("对方有初步兴趣", "已加微信，保持联系", "需求待确认", "约到面谈时间"),
    RESEARCH: ("需求已明确", "需要技术部补充参数", "决策链已摸清"),
    DEMO: ("方案获认可", "需修改方案", "技术评估通过"),
    QUOTE: ("已报价，等审批", "对方嫌价格偏高", "进入比价阶段"),
    NEGOTIATION: ("价格基本谈定", "等特价审批", "对方内部走流程"),
    CONTRACT: ("合同条款已确认", "等对方盖章", "合同已签"),
    AFTER_SALES: ("客户满意", "有二次采购意向", "已安排工程师处理"),
    LOST: ("客户流失", "暂无需求"),
}
NEXT_STEPS: dict[int, tuple[str, ...]] = {
    FIRST_CALL: ("发送案例资料并约上门调研", "电话确认需求和预算", "约{role}面谈"),
    RESEARCH: ("出初步方案", "安排方案演示", "提交技术方案初稿"),
    DEMO: ("根据反馈修改方案并报价", "发送正式报价", "补充能耗对比数据"),
    QUOTE: ("跟进报价审批进度", "申请特价", "准备商务谈判方案"),
    NEGOTIATION: ("准备合同草稿", "提交特价审批", "确认付款条款"),
    CONTRACT: ("跟进合同盖章", "确认首付款到账", "安排发货和安装"),
    AFTER_SALES: ("推荐二期项目方案", "安排季度保养", "跟进维保合同续签"),
    LOST: ("",),
}
# Why a rep goes there, by the stage of the visit.
PURPOSES = {
    FIRST_CALL: "初次拜访，了解需求",
    RESEARCH: "需求调研",
    DEMO: "方案演示",
    QUOTE: "当面沟通报价",
    NEGOTIATION: "商务谈判",
    CONTRACT: "合同签署",
    AFTER_SALES: "售后回访与设备保养",
    LOST: "了解客户现状",
}
CANCEL_REASONS = ("客户临时出差，改期再约", "对方领导开会，临时取消", "客户车间停产检修，推迟拜访")
# What is sold by the unit ("5 台数控车床"), not systems or services.
MACHINES = tuple(p for p in PRODUCTS if not any(w in p for w in ("系统", "服务", "平台", "改造")))
WHEN = ("本季度", "年底", "明年一季度", "下半年")

# Comments: who writes (the owner "rep" or his manager), to whom, at which stages.
COMMENTS_TO_MANAGER = (
    "@{manager} {company}要求再降 {pct}%，超出我的审批权限，麻烦帮忙申请特价。",
    "@{manager} 下周客户总经理想和我们领导见一面，您那边时间方便吗？",
    "@{manager} 客户希望付款改成 3-6-1、账期 60 天，您看能不能接受？",
)
COMMENTS_TO_REP = (
    "@{rep} 这个客户年底有预算，抓紧推进方案演示，别让竞争对手抢先。",
    "@{rep} 报价前把安装调试费和运费算进去，发之前给我看一眼。",
    "@{rep} 客户反馈上次的问题响应慢，今天务必回个电话安抚一下。",
    "@{rep} 特价已经批了，按让利 {pct2}% 执行，合同里写清楚质保条款。",
)
REPLIES_TO_MANAGER = ("@{manager} 收到，我明天上午就联系客户。", "@{manager} 好的，已经安排了。")
REPLIES_TO_REP = ("@{rep} 可以，周二上午我和你一起去。", "@{rep} 好，审批走完我在群里说。")
COMMENTS_TO_PEER = ("@{peer} 你之前跟过他们集团的采购，方便的话帮忙引荐一下？",)

# --- Where the customers are ----------------------------------------------------------------------

# city → (latitude, longitude of its centre, districts) for the cities of tuoke.customers.names.
CITY_PLACES: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "深圳": (22.543, 114.058, ("南山区", "宝安区", "龙华区", "龙岗区")),
    "广州": (23.129, 113.264, ("天河区", "黄埔区", "番禺区", "白云区")),
    "东莞": (23.021, 113.752, ("松山湖", "长安镇", "虎门镇", "塘厦镇")),
    "佛山": (23.022, 113.122, ("顺德区", "南海区", "禅城区")),
    "珠海": (22.271, 113.577, ("香洲区", "金湾区", "斗门区")),
    "惠州": (23.112, 114.416, ("惠城区", "仲恺高新区", "惠阳区")),
    "上海": (31.230, 121.474, ("浦东新区", "闵行区", "嘉定区", "松江区")),
    "北京": (39.904, 116.407, ("海淀区", "朝阳区", "大兴区", "顺义区")),
    "天津": (39.084, 117.201, ("滨海新区", "西青区", "东丽区")),
    "重庆": (29.563, 106.551, ("渝北区", "九龙坡区", "江北区")),
    "苏州": (31.299, 120.585, ("工业园区", "吴中区", "相城区", "昆山市")),
    "南京": (32.060, 118.797, ("江宁区", "栖霞区", "浦口区")),
    "无锡": (31.491, 120.312, ("新吴区", "惠山区", "锡山区")),
    "常州": (31.811, 119.974, ("武进区", "新北区", "金坛区")),
    "杭州": (30.274, 120.155, ("滨江区", "余杭区", "萧山区", "钱塘区")),
    "宁波": (29.868, 121.544, ("北仑区", "鄞州区", "慈溪市")),
    "温州": (27.994, 120.699, ("鹿城区", "瓯海区", "乐清市")),
    "嘉兴": (30.746, 120.756, ("南湖区", "秀洲区", "嘉善县")),
    "厦门": (24.480, 118.089, ("湖里区", "集美区", "海沧区")),
    "福州": (26.074, 119.296, ("鼓楼区", "仓山区", "马尾区")),
    "泉州": (24.874, 118.676, ("丰泽区", "晋江市", "石狮市")),
    "青岛": (36.067, 120.383, ("黄岛区", "城阳区", "即墨区")),
    "济南": (36.651, 117.120, ("历下区", "历城区", "章丘区")),
    "烟台": (37.463, 121.448, ("芝罘区", "莱山区", "福山区")),
    "武汉": (30.593, 114.305, ("洪山区", "汉阳区", "江夏区")),
    "长沙": (28.228, 112.939, ("岳麓区", "雨花区", "长沙县")),
    "成都": (30.572, 104.066, ("武侯区", "双流区", "郫都区")),
    "西安": (34.341, 108.940, ("雁塔区", "未央区", "长安区")),
    "郑州": (34.747, 113.625, ("金水区", "中原区", "管城回族区")),
    "合肥": (31.820, 117.227, ("蜀山区", "包河区", "庐阳区")),
    "大连": (38.914, 121.615, ("甘井子区", "金州区", "沙河口区")),
    "沈阳": (41.805, 123.431, ("浑南区", "铁西区", "于洪区")),
}
ROADS = (
    "科技路", "工业大道", "创业路", "兴业路", "高新大道", "产业园路", "发展大道", "长江路",
    "黄河路", "珠江路", "经三路", "纬二路", "建设路", "新华路", "锦绣大道", "金桥路",
)  # fmt: skip
MUNICIPALITIES = ("上海", "北京", "天津", "重庆")


@dataclass
class _Place:
    address: str
    latitude: float
    longitude: float


def _place(rng: random.Random, customer: Customer) -> _Place | None:
    found = CITY_PLACES.get(customer.city)
    if found is None:
        return None
    lat, lon, districts = found
    city = f"{customer.city}市"
    region = city if customer.city in MUNICIPALITIES else f"{customer.province}省{city}"
    street = f"{rng.choice(districts)}{rng.choice(ROADS)}{rng.randint(1, 1200)}号"
    return _Place(
        address=f"{region}{street}",
        latitude=lat + rng.uniform(-0.06, 0.06),
        longitude=lon + rng.uniform(-0.07, 0.07),
    )


def _coordinate(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


# --- A customer's history -------------------------------------------------------------------------


@dataclass
class _Step:
    stage: int
    kind: str
    at: datetime
    content: str
    result: str = ""
    next_step: str = ""
    next_step_on: date | None = None
    contacts: list[int] = field(default_factory=list)


def _stages(rng: random.Random, status: str, span_days: int) -> list[int]:
    """The stage of each follow-up, in order, as far as the customer's status went."""
    last = {
        LifecycleStatus.POTENTIAL: rng.choice((FIRST_CALL, RESEARCH, RESEARCH, DEMO)),
        LifecycleStatus.INTENT: rng.choice((DEMO, QUOTE, QUOTE, NEGOTIATION, CONTRACT)),
    }.get(status, CONTRACT)
    stages: list[int] = []
    for stage in range(last + 1):
        repeat = rng.choice((1, 1, 2)) if stage in (FIRST_CALL, QUOTE, NEGOTIATION) else 1
        stages += [stage] * repeat
    if status in (LifecycleStatus.SIGNED, LifecycleStatus.CHURNED):
        stages += [AFTER_SALES] * max(1, min(6, span_days // 50))
    if status == LifecycleStatus.CHURNED:
        stages.append(LOST)
    most = max(1, span_days // 3)
    if len(stages) > most:
        # A young customer: fewer touches, still from the first stage to where it is.
        picks = [round(i * (len(stages) - 1) / max(most - 1, 1)) for i in range(most)]
        stages = [stages[i] for i in sorted(set(picks))]
    return stages


def _office_time(rng: random.Random, day: date) -> datetime:
    at = time(rng.randint(9, 17), rng.choice((0, 10, 20, 30, 40, 50)))
    return timezone.make_aware(datetime.combine(day, at), timezone.get_current_timezone())


def _moments(
    rng: random.Random,
    stages: list[int],
    windows: list[tuple[int, datetime]],
    last_day: date,
    now: datetime,
) -> list[datetime]:
    """A time in office hours for each stage's follow-up, in order, the last one on
    ``last_day``, all in the past: each stage falls after the lifecycle change it follows
    (``windows``: (first stage, from when), e.g. after-sales after the signing)."""
    end_of_last = min(_office_time(rng, last_day) + timedelta(hours=8), now)
    moments: list[datetime] = []
    for stage in stages:
        start = max(at for first, at in windows if first <= stage)
        later = [at for first, at in windows if first > stage]
        end = min([*later, end_of_last])
        span = max((timezone.localdate(end) - timezone.localdate(start)).days, 0)
        at = _office_time(rng, timezone.localdate(start) + timedelta(days=rng.randint(0, span)))
        # Office hours of the next (or the day before) when the window starts (or ends) later.
        if at < start:
            at = _office_time(rng, timezone.localdate(start) + timedelta(days=1))
        if at > end:
            at = _office_time(rng, timezone.localdate(end) - timedelta(days=1))
        moments.append(min(max(at, start + timedelta(minutes=30)), end - timedelta(minutes=30)))
    moments.sort()
    last = _office_time(rng, last_day)
    if moments and last > moments[-1]:
        moments[-1] = last
    # After the customer was made, apart from each other, and before now.
    floor = windows[0][1] + timedelta(minutes=30)
    for n in range(len(moments)):
        moments[n] = max(moments[n], floor)
        floor = moments[n] + timedelta(minutes=45)
        moments[n] = min(moments[n], now - timedelta(minutes=5 * (len(moments) - n)))
    return moments


def _facts(rng: random.Random, customer: Customer, reason: str) -> dict[str, object]:
    """What a customer's deal is about, the same through its history."""
    pct = rng.choice((3, 5, 8, 10))
    return {
        "product": rng.choice(MACHINES),
        "count": rng.choice((2, 3, 4, 5, 6, 8, 10, 12)),
        "budget": rng.choice((35, 48, 60, 86, 120, 160, 230, 380)),
        "pct": pct,
        "pct2": max(2, pct // 2),
        "weeks": rng.choice((6, 8, 10, 12)),
        "months": rng.randint(2, 10),
        "when": rng.choice(WHEN),
        "reason": reason or "客户今年没有采购预算",
        "company": customer.short_name or customer.legal_name,
    }


def _history(
    rng: random.Random,
    customer: Customer,
    contacts: list[Contact],
    changes: dict[str, datetime],
    reason: str,
    now: datetime,
) -> list[_Step]:
    """The customer's follow-ups, oldest first (next steps of the newest left to the
    caller); ``changes``: when it became intent, signed, churned."""
    today = timezone.localdate(now)
    created = customer.created_at
    if customer.last_follow_up_at is not None:
        last_day = timezone.localdate(customer.last_follow_up_at)
    else:
        # Never followed up lately: the last touch lies weeks back.
        last_day = today - timedelta(days=rng.randint(35, 150))
    windows = [(FIRST_CALL, created)]
    for status, first in (
        (LifecycleStatus.INTENT, DEMO),
        (LifecycleStatus.SIGNED, AFTER_SALES),
        (LifecycleStatus.CHURNED, LOST),
    ):
        if status in changes:
            windows.append((first, changes[status]))
            if first >= AFTER_SALES:
                # After the signing (or the loss) there is a touch at least.
                last_day = max(last_day, timezone.localdate(changes[status]) + timedelta(days=1))
    if last_day >= today and timezone.localtime(now).hour < 12:
        last_day = today - timedelta(days=1)  # nobody has called yet this morning
    last_day = min(max(last_day, timezone.localdate(created)), today)
    span_days = (last_day - timezone.localdate(created)).days
    stages = _stages(rng, customer.lifecycle_status, span_days)
    facts = _facts(rng, customer, reason)
    used: set[str] = set()
    steps = []
    moments = _moments(rng, stages, windows, last_day, now)
    for n, (stage, at) in enumerate(zip(stages, moments, strict=True)):
        kinds = KINDS[stage]
        kind = rng.choices(list(kinds), list(kinds.values()))[0]
        if not set(CONTENTS[stage][kind]) - used:
            # Said that already: another way of doing this stage.
            kind = next((k for k in kinds if set(CONTENTS[stage][k]) - used), kind)
        texts = [t for t in CONTENTS[stage][kind] if t not in used] or list(CONTENTS[stage][kind])
        text = rng.choice(texts)
        used.add(text)
        chosen = (
            rng.sample(contacts, min(len(contacts), rng.choice((1, 1, 1, 2)))) if contacts else []
        )
        contact = chosen[0] if chosen else None
        values = {
            **facts,
            "contact": contact.name if contact else "对方",
            "role": (contact.title if contact and contact.title else "采购负责人"),
        }
        step = _Step(
            stage=stage,
            kind=kind,
            at=at,
            content=text.format(**values),
            result=rng.choice(RESULTS[stage]) if rng.random() < 0.8 else "",
            next_step=rng.choice(NEXT_STEPS[stage]).format(**values),
            contacts=[c.pk for c in chosen],
        )
        if n < len(stages) - 1:
            # The newest's next step is settled by the caller; older ones had some.
            if rng.random() < NEXT_STEP_SHARE:
                step.next_step_on = timezone.localdate(at) + timedelta(days=rng.randint(2, 10))
            elif rng.random() < 0.4:
                step.next_step = ""
        steps.append(step)
    return steps


def _newest_next_step(rng: random.Random, step: _Step, today: date, *, force_today: bool) -> None:
    """The next step of a customer's newest follow-up: overdue, due today, ahead, or none."""
    step.next_step_on = None
    if not step.next_step:
        return
    logged = timezone.localdate(step.at)
    draw = rng.random()
    if force_today or OVERDUE_SHARE <= draw < OVERDUE_SHARE + TODAY_SHARE:
        step.next_step_on = today
    elif draw < OVERDUE_SHARE and logged < today:
        step.next_step_on = min(logged + timedelta(days=rng.randint(1, 10)), today - timedelta(1))
    elif draw < OVERDUE_SHARE + TODAY_SHARE + AHEAD_SHARE:
        step.next_step_on = today + timedelta(days=rng.randint(1, 14))


# --- Loading it -----------------------------------------------------------------------------------


def demo_customers() -> list[Customer]:
    """The customers the demo's reps and managers own that were not made today (those a lead
    turned into just now have no past)."""
    since = timezone.now() - timedelta(days=1)
    return list(
        Customer.objects.filter(owner__username__in=OWNERS, created_at__lt=since)
        .select_related("owner")
        .order_by("pk")
    )


def build_activities() -> dict[str, int]:
    """Load the history once (a second run finds it and adds none), then today's plans."""
    customers = demo_customers()
    made: dict[str, int] = {}
    ids = [c.pk for c in customers]
    if customers and not FollowUp.all_objects.filter(customer_id__in=ids).exists():
        made = _build(customers)
    run = generate_plan(day=timezone.localdate(), trigger="demo")
    made["plan_tasks"] = run.created
    return made


@transaction.atomic
def _build(customers: list[Customer]) -> dict[str, int]:
    now = timezone.now()
    today = timezone.localdate(now)
    people = {
        u.username: u for u in User.objects.filter(username__in=[*OWNERS, *MANAGERS.values()])
    }
    kinds = dict(FollowUpKind.objects.values_list("key", "pk"))
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer__in=customers).order_by("pk"):
        contacts.setdefault(contact.customer_id, []).append(contact)
    changes: dict[int, dict[str, datetime]] = {}
    reasons: dict[int, str] = {}
    for customer_id, status, at, reason in LifecycleChange.objects.filter(
        customer__in=customers,
        to_status__in=[LifecycleStatus.INTENT, LifecycleStatus.SIGNED, LifecycleStatus.CHURNED],
    ).values_list("customer_id", "to_status", "at", "reason"):
        changes.setdefault(customer_id, {})[status] = at
        if status == LifecycleStatus.CHURNED:
            reasons[customer_id] = reason
    histories: dict[int, list[_Step]] = {}
    places: dict[int, _Place | None] = {}
    forced: set[int] = set()  # owners given a next step due today already
    for customer in customers:
        rng = random.Random(f"{SEED}:{customer.legal_name or customer.pk}")  # noqa: S311
        places[customer.pk] = _place(rng, customer)
        if customer.lifecycle_status == LifecycleStatus.LEAD:
            continue  # not touched yet: a follow-up would have made it "potential"
        steps = _history(
            rng,
            customer,
            contacts.get(customer.pk, []),
            changes.get(customer.pk, {}),
            reasons.get(customer.pk, ""),
            now,
        )
        if customer.lifecycle_status != LifecycleStatus.CHURNED:
            force = customer.owner_id not in forced
            _newest_next_step(rng, steps[-1], today, force_today=force)
            if force and steps[-1].next_step_on == today:
                forced.add(customer.owner_id)
        else:
            steps[-1].next_step, steps[-1].next_step_on = "", None
        histories[customer.pk] = steps
    by_pk = {c.pk: c for c in customers}
    follow_ups = _load_follow_ups(histories, by_pk, kinds)
    tasks = _load_tasks(histories, follow_ups, by_pk, kinds)
    visits = _load_visits(histories, follow_ups, by_pk, places, now)
    # The customers' last follow-up time is their newest follow-up's (none: never).
    for customer in customers:
        steps = histories.get(customer.pk)
        customer.last_follow_up_at = steps[-1].at if steps else None
    Customer.all_objects.bulk_update(customers, ["last_follow_up_at"], batch_size=500)
    planned, cancelled = _visits_around_today(customers, histories, contacts, people, now)
    comments = _comments(customers, histories, people, now)
    return {
        "follow_ups": sum(len(rows) for rows in follow_ups.values()),
        "tasks": tasks,
        "visits": visits + planned + cancelled,
        "comments": comments,
    }


def _load_follow_ups(
    histories: dict[int, list[_Step]], customers: dict[int, Customer], kinds: dict[str, int]
) -> dict[int, list[FollowUp]]:
    rows: dict[int, list[FollowUp]] = {}
    flat: list[FollowUp] = []
    for pk, steps in histories.items():
        owner = customers[pk].owner_id
        rows[pk] = [
            FollowUp(
                owner_id=owner,
                customer_id=pk,
                kind_id=kinds[s.kind],
                happened_at=s.at,
                content=s.content,
                result=s.result,
                next_step=s.next_step,
                next_step_on=s.next_step_on,
                created_by_id=owner,
                updated_by_id=owner,
            )
            for s in steps
        ]
        flat += rows[pk]
    FollowUp.objects.bulk_create(flat, batch_size=500)
    # Logged when they happened (auto_now_add wrote the present).
    for pk, steps in histories.items():
        for step, row in zip(steps, rows[pk], strict=True):
            row.created_at = row.updated_at = step.at
    FollowUp.objects.bulk_update(flat, ["created_at", "updated_at"], batch_size=500)
    through = FollowUp.contacts.through
    through.objects.bulk_create(
        [
            through(followup_id=row.pk, contact_id=contact)
            for pk, steps in histories.items()
            for step, row in zip(steps, rows[pk], strict=True)
            for contact in step.contacts
        ],
        batch_size=500,
    )
    return rows


def _load_tasks(
    histories: dict[int, list[_Step]],
    follow_ups: dict[int, list[FollowUp]],
    customers: dict[int, Customer],
    kinds: dict[str, int],
) -> int:
    """Each next step's task, as logging made it: done by the customer's next follow-up, or
    (the newest's) still open."""
    made: list[tuple[Task, FollowUp]] = []  # each task with the follow-up that set it
    for pk, rows in follow_ups.items():
        owner = customers[pk].owner_id
        for n, row in enumerate(rows):
            if row.next_step_on is None:
                continue
            after = rows[n + 1] if n + 1 < len(rows) else None
            task = Task(
                owner_id=owner,
                title=row.next_step[:200],
                due_on=row.next_step_on,
                customer_id=pk,
                kind_id=row.kind_id,
                source=NEXT_STEP_SOURCE,
                source_key=services.next_step_key(row),
                done_at=after.happened_at if after else None,
                done_by_id=owner if after else None,
                done_with=after,
                created_by_id=owner,
                updated_by_id=owner,
            )
            made.append((task, row))
    tasks = [task for task, _row in made]
    Task.objects.bulk_create(tasks, batch_size=500)
    # Made when its follow-up was logged (auto_now_add wrote the present), changed when done.
    for task, row in made:
        task.created_at = row.happened_at
        task.updated_at = task.done_at or task.created_at
    Task.objects.bulk_update(tasks, ["created_at", "updated_at"], batch_size=500)
    return len(tasks)


def _load_visits(
    histories: dict[int, list[_Step]],
    follow_ups: dict[int, list[FollowUp]],
    customers: dict[int, Customer],
    places: dict[int, _Place | None],
    now: datetime,
) -> int:
    """The visit of each follow-up of kind "visit": planned days before, checked in near the
    customer's address (or without a place, when the browser would not say)."""
    visits: list[tuple[Visit, datetime]] = []
    for pk, steps in histories.items():
        rng = random.Random(f"{SEED}:visits:{pk}")  # noqa: S311
        customer = customers[pk]
        place = places[pk]
        for step, row in zip(steps, follow_ups[pk], strict=True):
            if step.kind != "visit":
                continue
            planned = step.at.replace(minute=0 if step.at.minute < 30 else 30) - timedelta(
                minutes=rng.choice((0, 0, 30))
            )
            planned = max(planned, customer.created_at)
            located = place is not None and rng.random() >= NO_PLACE_SHARE
            visit = Visit(
                owner_id=customer.owner_id,
                customer_id=pk,
                planned_at=planned,
                purpose=PURPOSES[step.stage],
                status=Visit.Status.DONE,
                checked_in_at=step.at,
                follow_up=row,
                created_by_id=customer.owner_id,
                updated_by_id=customer.owner_id,
            )
            if located:
                assert place is not None
                visit.latitude = _coordinate(place.latitude + rng.uniform(-0.0012, 0.0012))
                visit.longitude = _coordinate(place.longitude + rng.uniform(-0.0012, 0.0012))
                visit.accuracy_m = rng.randint(8, 65)
                visit.address = place.address
            made = max(planned - timedelta(days=rng.randint(1, 6)), customer.created_at)
            visits.append((visit, min(made, step.at)))
    Visit.objects.bulk_create([v for v, _made in visits], batch_size=500)
    for visit, made in visits:
        visit.created_at = made
        visit.updated_at = min(visit.checked_in_at + timedelta(minutes=50), now)
    Visit.objects.bulk_update(
        [v for v, _made in visits], ["created_at", "updated_at"], batch_size=500
    )
    through = Visit.contacts.through
    rows = {
        row.pk: step
        for pk, steps in histories.items()
        for step, row in zip(steps, follow_ups[pk], strict=True)
    }
    through.objects.bulk_create(
        [
            through(visit_id=visit.pk, contact_id=contact)
            for visit, _made in visits
            for contact in rows[visit.follow_up.pk].contacts
        ],
        batch_size=500,
    )
    return len(visits)


def _active(customer: Customer, histories: dict[int, list[_Step]]) -> bool:
    return customer.pk in histories and customer.lifecycle_status != LifecycleStatus.CHURNED


def _visits_around_today(
    customers: list[Customer],
    histories: dict[int, list[_Step]],
    contacts: dict[int, list[Contact]],
    people: dict[str, User],
    now: datetime,
) -> tuple[int, int]:
    """Visits planned over the coming six days, and a few called off in the past weeks
    (through the services, then dated when they were planned and called off)."""
    rng = random.Random(f"{SEED}:visits ahead")  # noqa: S311
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    planned = cancelled = 0
    for username in OWNERS:
        person = people[username]
        theirs = [c for c in customers if c.owner_id == person.pk and _active(c, histories)]
        ahead = PLANNED_VISITS["rep" if username.startswith("rep_") else "manager"]
        chosen = rng.sample(theirs, min(len(theirs), ahead + CANCELLED_VISITS))
        for n, customer in enumerate(chosen):
            stage = min(histories[customer.pk][-1].stage + 1, AFTER_SALES)
            hour = rng.choice((time(9, 30), time(10, 0), time(14, 0), time(14, 30), time(15, 30)))
            people_there = contacts.get(customer.pk, [])[:1]
            if n < ahead:
                day = today + timedelta(days=rng.randint(1, 6))
                services.plan_visit(
                    by=person,
                    customer=customer,
                    planned_at=timezone.make_aware(datetime.combine(day, hour), tz),
                    purpose=PURPOSES[stage],
                    contacts=people_there,
                )
                planned += 1
                continue
            day = today - timedelta(days=rng.randint(5, 40))
            at = timezone.make_aware(datetime.combine(day, hour), tz)
            if at - timedelta(days=3) < customer.created_at:
                continue
            visit = services.plan_visit(
                by=person, customer=customer, planned_at=at, purpose=PURPOSES[stage],
                contacts=people_there,
            )  # fmt: skip
            services.cancel_visit(visit, by=person, reason=rng.choice(CANCEL_REASONS))
            made, called_off = at - timedelta(days=3), at - timedelta(hours=rng.randint(2, 20))
            Visit.objects.filter(pk=visit.pk).update(created_at=made, updated_at=called_off)
            trail = list(
                AuditEntry.objects.filter(
                    content_type=ContentType.objects.get_for_model(Visit), object_id=visit.pk
                ).order_by("pk")
            )
            for entry in trail:
                AuditEntry.objects.filter(pk=entry.pk).update(
                    at=made if entry is trail[0] else called_off
                )
            cancelled += 1
    return planned, cancelled


def _comments(
    customers: list[Customer],
    histories: dict[int, list[_Step]],
    people: dict[str, User],
    now: datetime,
) -> int:
    """Comments where a rep and his manager @mention each other (and now and then a rep his
    colleague, who cannot open the customer and is told whom to ask), through add_comment;
    then dated between two follow-ups, their notifications read unless recent."""
    rng = random.Random(f"{SEED}:comments")  # noqa: S311
    by_pk = {u.pk: u for u in people.values()}
    made: list[tuple[Comment, datetime]] = []
    for customer in customers:
        owner = by_pk.get(customer.owner_id)
        steps = histories.get(customer.pk, [])
        if owner is None or not owner.username.startswith("rep_") or len(steps) < 3:
            continue
        if not _active(customer, histories) or rng.random() >= COMMENT_SHARE:
            continue
        team = "east" if "east" in owner.username else "south"
        manager = people[MANAGERS[team]]
        peer = next(
            u for n, u in people.items() if n.startswith(f"rep_{team}") and u.pk != owner.pk
        )
        # Mostly about an earlier step; some about the newest (recent ones still unread).
        about = steps[-1] if rng.random() < 0.3 else rng.choice(steps[1:-1] or steps[-1:])
        at = about.at + timedelta(minutes=rng.randint(20, 180))
        at = min(at, now - timedelta(minutes=30))
        values = {
            "manager": manager.display_name,
            "rep": owner.display_name,
            "peer": peer.display_name,
            "company": customer.short_name or customer.legal_name,
            "pct": rng.choice((3, 5, 8)),
            "pct2": rng.choice((2, 3)),
        }
        draw = rng.random()
        if draw < 0.1:
            thread = [(owner, rng.choice(COMMENTS_TO_PEER))]
        elif draw < 0.55:
            thread = [(owner, rng.choice(COMMENTS_TO_MANAGER))]
            if rng.random() < 0.5:
                thread.append((manager, rng.choice(REPLIES_TO_REP)))
        else:
            thread = [(manager, rng.choice(COMMENTS_TO_REP))]
            if rng.random() < 0.6:
                thread.append((owner, rng.choice(REPLIES_TO_MANAGER)))
        for author, text in thread:
            before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
            comment = services.add_comment(by=author, customer=customer, body=text.format(**values))
            Notification.objects.filter(pk__gt=before or 0).update(
                created_at=at,
                read_at=at + timedelta(hours=2) if at < now - timedelta(days=7) else None,
            )
            made.append((comment, at))
            at = min(at + timedelta(minutes=rng.randint(10, 240)), now - timedelta(minutes=5))
    for comment, at in made:
        comment.created_at = comment.updated_at = at
    Comment.objects.bulk_update([c for c, _at in made], ["created_at", "updated_at"])
    AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Comment),
        object_id__in=[c.pk for c, _at in made],
    ).update(
        at=Subquery(Comment.all_objects.filter(pk=OuterRef("object_id")).values("created_at")[:1])
    )
    return len(made)
