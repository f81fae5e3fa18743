"""Forms of the delivery-channel pages: they parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tuoke.org.forms import VersionedForm

from .models import DeliveryChannel
from .secrets import mask_url

ROBOT_CHOICES = [
    (DeliveryChannel.Kind.WECOM.value, DeliveryChannel.Kind.WECOM.label),
    (DeliveryChannel.Kind.DINGTALK.value, DeliveryChannel.Kind.DINGTALK.label),
]


class RobotForm(VersionedForm):
    """A WeCom or DingTalk robot. On edit, an empty address or secret keeps the stored one
    (neither is ever shown back)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=ROBOT_CHOICES)
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("e.g. 华东销售群; shown in the delivery log."),
    )
    webhook_url = forms.CharField(
        label=_("Webhook address"),
        max_length=500,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "url",
                "placeholder": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
            }
        ),
        help_text=_("Copy it from the group's robot settings in WeCom or DingTalk."),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password", "placeholder": "SEC…"}
        ),
        help_text=_("DingTalk only, when the robot's security setting is “sign” (加签)."),
    )
    clear_secret = forms.BooleanField(label=_("Remove the signing secret"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, channel: DeliveryChannel | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        if channel is None:
            del self.fields["clear_secret"]
            self.fields["webhook_url"].required = True
        else:
            del self.fields["kind"]
            self.fields["webhook_url"].help_text = _(
                "Stored: %(masked)s. Leave empty to keep it."
            ) % {"masked": mask_url(channel.webhook_url)}
            if channel.kind != DeliveryChannel.Kind.DINGTALK:
                del self.fields["secret"]
                del self.fields["clear_secret"]
            elif channel.secret_encrypted:
                self.fields["secret"].help_text = _("A secret is stored. Leave empty to keep it.")
            else:
                del self.fields["clear_secret"]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_webhook_url(self) -> str:
        return self.cleaned_data["webhook_url"].strip()

    def clean_secret(self) -> str:
        return self.cleaned_data.get("secret", "").strip()
