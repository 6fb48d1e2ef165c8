"""Sign-in, family registration and password change forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from services.password_policy import MAX_LENGTH, MIN_LENGTH, weakness
from services.sessions import REMEMBER_FOR

MOBILE_MESSAGE = _l("请填写11位手机号码,例如 13812345678。")
PASSWORD_HINT = _l(
    "至少%(min)d位。可以用一句只有您知道、好记的话;不要用生日、手机号码或 12345678 这样的数字。",
    min=MIN_LENGTH,
)
_WEAK = {
    "too_short": _l("密码至少需要%(min)d位。", min=MIN_LENGTH),
    "too_long": _l("密码最多%(max)d位。", max=MAX_LENGTH),
    "common": _l("这个密码太常见,很容易被别人猜到,请换一个。"),
    "pattern": _l("密码不能是重复或连续的字符(例如 11111111、12345678、qwertyui),也不能是日期。"),
    "contains_login": _l("密码里不能有您的手机号码或登录名。"),
}


def weak_password_message(reason: str) -> str:
    """The sentence for a password the policy refuses (reason from services.password_policy)."""
    return str(_WEAK.get(reason, _WEAK["common"]))


class StrongPassword:
    """The shared password policy as a field validator; the login comes from a field or the form."""

    def __init__(self, login_field: str = "") -> None:
        self.login_field = login_field

    def __call__(self, form: FlaskForm, field: Field) -> None:
        login = form[self.login_field].data if self.login_field else form.account_login
        reason = weakness(field.data or "", login or "")
        if reason:
            raise ValidationError(weak_password_message(reason))


class LoginForm(FlaskForm):
    """Families sign in with their mobile number; staff with their login name."""

    login = StringField(
        _l("手机号码或登录名"), validators=[InputRequired(_l("请填写手机号码或登录名。"))]
    )
    password = PasswordField(_l("密码"), validators=[InputRequired(_l("请填写密码。"))])
    remember = BooleanField(
        _l("在这台设备上记住我(%(days)d天)", days=REMEMBER_FOR.days),
        description=_l("只在自己的手机或电脑上勾选。工作人员账户不会被记住。"),
    )


class RegisterForm(FlaskForm):
    """A family member creates an account to apply and follow cases."""

    mobile = StringField(
        _l("手机号码"),
        description=_l("用来登录,也用来接收办理进度的通知。"),
        validators=[
            InputRequired(MOBILE_MESSAGE),
            Regexp(r"^1[3-9]\d{9}$", message=MOBILE_MESSAGE),
        ],
    )
    display_name = StringField(
        _l("您的称呼"),
        description=_l("例如:王建国,或 王先生。"),
        validators=[
            InputRequired(_l("请填写您的称呼。")),
            Length(max=60, message=_l("称呼请在60字以内。")),
        ],
    )
    password = PasswordField(
        _l("设置密码"),
        description=PASSWORD_HINT,
        validators=[InputRequired(_l("请设置密码。")), StrongPassword("mobile")],
    )
    confirm = PasswordField(
        _l("再输入一次密码"),
        validators=[
            InputRequired(_l("请再输入一次密码。")),
            EqualTo("password", message=_l("两次输入的密码不一样,请重新输入。")),
        ],
    )


class PasswordForm(FlaskForm):
    """A signed-in user replaces their password, confirming the current one."""

    current = PasswordField(
        _l("当前密码"), validators=[InputRequired(_l("请填写现在使用的密码。"))]
    )
    password = PasswordField(
        _l("新密码"),
        description=PASSWORD_HINT,
        validators=[InputRequired(_l("请设置新密码。")), StrongPassword()],
    )
    confirm = PasswordField(
        _l("再输入一次新密码"),
        validators=[
            InputRequired(_l("请再输入一次新密码。")),
            EqualTo("password", message=_l("两次输入的密码不一样,请重新输入。")),
        ],
    )

    def __init__(self, *args: Any, login: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_login = login
