"""Records rep_east1 may not see, for the access matrix (tests/web/test_access_matrix.py and
tests/api/test_scope.py): another person's notification and another person's robot."""


def south_notification(people):
    """A notification of rep_south1."""
    from tuoke.core.models import Notification
    from tuoke.core.notifications import notify

    existing = Notification.objects.filter(recipient=people["rep_south1"], kind="matrix").first()
    return existing or notify([people["rep_south1"]], kind="matrix", title="南方通知")[0]


def south_channel(people):
    """rep_south1's own WeCom robot."""
    from tuoke.integrations.models import DeliveryChannel
    from tuoke.integrations.services import create_channel

    owner = people["rep_south1"]
    existing = DeliveryChannel.objects.filter(user=owner, name="南方机器人").first()
    return existing or create_channel(
        by=owner,
        kind="wecom",
        user=owner,
        name="南方机器人",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=south-matrix-key",
    )
