"""Sign-in and family registration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

MOBILE_MESSAGE = _l("请填写11位手机号码,例如 13812345678。")


class LoginForm(FlaskForm):
    """Families sign in with their mobile number; staff with their login name."""

    login = StringField(
        _l("手机号码或登录名"), validators=[InputRequired(_l("请填写手机号码或登录名。"))]
    )
    password = PasswordField(_l("密码"), validators=[InputRequired(_l("请填写密码。"))])


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
        description=_l("至少8位。可以用一句好记的话,例如 wo-ai-jia-2026。"),
        validators=[
            InputRequired(_l("请设置密码。")),
            Length(min=8, message=_l("密码至少需要8位。")),
        ],
    )
    confirm = PasswordField(
        _l("再输入一次密码"),
        validators=[
            InputRequired(_l("请再输入一次密码。")),
            EqualTo("password", message=_l("两次输入的密码不一样,请重新输入。")),
        ],
    )
