"""Error messages in the caller's language: the catalogue of messages per error ``code`` per
language (en, zh, tr, bg) and the choice of the language.

The error ``code`` is the stable, machine-readable part of an error and never changes with the
language; the ``message`` is for people. English answers keep the specific message the gateway or
the service wrote ("Customer 7 not found"). In another language the message is this catalogue's
text for the code, filled from the error's ``details`` where a template names them (the invalid
fields, the required roles, the size limit, the seconds to wait, the service); ``details`` are
never translated, so their field paths and reasons stay as they are. A code this catalogue does
not know keeps its English message (and the response says ``Content-Language: en``).

The language: the signed-in user's profile language when they have one, else the best
``Accept-Language`` match (q-values honoured, ``zh-CN`` matches ``zh``), else English.
"""

from __future__ import annotations

from string import Formatter
from typing import Any

LANGUAGES = ("en", "zh", "tr", "bg")
DEFAULT_LANGUAGE = "en"

# code → templates, most specific first: the first whose {placeholders} the details can all
# fill is used; the last of each code names none. Placeholders: a scalar or a list of scalars
# in ``details`` under that name, and ``fields`` (the field paths ``details`` lists reasons for).
MESSAGES: dict[str, tuple[dict[str, str], ...]] = {
    "BAD_REQUEST": (
        {
            "en": "The request cannot be read",
            "zh": "无法读取该请求",
            "tr": "İstek okunamıyor",
            "bg": "Заявката не може да бъде прочетена",
        },
    ),
    "UNAUTHORIZED": (
        {
            "en": "Not authenticated: sign in",
            "zh": "未通过身份验证：请登录",
            "tr": "Kimlik doğrulanmadı: lütfen oturum açın",
            "bg": "Не сте удостоверени: моля, влезте в системата",
        },
    ),
    "FORBIDDEN": (
        {
            "en": "Requires one of the roles: {required_roles}",
            "zh": "需要以下角色之一：{required_roles}",
            "tr": "Şu rollerden biri gerekli: {required_roles}",
            "bg": "Необходима е една от ролите: {required_roles}",
        },
        {
            "en": "You are not allowed to do this",
            "zh": "您无权执行此操作",
            "tr": "Bu işlemi yapma yetkiniz yok",
            "bg": "Нямате право да извършите това действие",
        },
    ),
    "NOT_FOUND": (
        {
            "en": "Record {id} not found",
            "zh": "未找到编号为 {id} 的记录",
            "tr": "{id} numaralı kayıt bulunamadı",
            "bg": "Запис с номер {id} не е намерен",
        },
        {
            "en": "Not found",
            "zh": "未找到所请求的内容",
            "tr": "İstenen kaynak bulunamadı",
            "bg": "Търсеният ресурс не е намерен",
        },
    ),
    "METHOD_NOT_ALLOWED": (
        {
            "en": "This method is not allowed here",
            "zh": "此地址不允许使用该请求方法",
            "tr": "Bu adreste bu istek yöntemine izin verilmiyor",
            "bg": "Този метод на заявка не е разрешен за този адрес",
        },
    ),
    "CONFLICT": (
        {
            "en": "The request conflicts with the record's current state",
            "zh": "该请求与记录的当前状态冲突",
            "tr": "İstek, kaydın mevcut durumuyla çelişiyor",
            "bg": "Заявката е в противоречие с текущото състояние на записа",
        },
    ),
    "GONE": (
        {
            "en": "This is no longer available (e.g. the link has expired)",
            "zh": "该内容已失效（例如链接已过期）",
            "tr": "Bu artık geçerli değil (örneğin bağlantının süresi doldu)",
            "bg": "Това вече не е валидно (например връзката е изтекла)",
        },
    ),
    "PRECONDITION_FAILED": (
        {
            "en": "The record was changed since you read it: read it again and reapply your change",
            "zh": "该记录在您读取之后已被修改：请重新读取并再次进行修改",
            "tr": "Kayıt siz okuduktan sonra değiştirildi: yeniden okuyup değişikliğinizi tekrar uygulayın",
            "bg": "Записът е променен, след като сте го прочели: прочетете го отново и повторете промяната",
        },
    ),
    "PAYLOAD_TOO_LARGE": (
        {
            "en": "The request is larger than {max_bytes} bytes",
            "zh": "请求内容超过了 {max_bytes} 字节的上限",
            "tr": "İstek {max_bytes} bayt sınırını aşıyor",
            "bg": "Заявката надвишава ограничението от {max_bytes} байта",
        },
        {
            "en": "The request is too large",
            "zh": "请求内容过大",
            "tr": "İstek çok büyük",
            "bg": "Заявката е твърде голяма",
        },
    ),
    "UNSUPPORTED_MEDIA_TYPE": (
        {
            "en": "This content type is not supported",
            "zh": "不支持该内容类型",
            "tr": "Bu içerik türü desteklenmiyor",
            "bg": "Този тип съдържание не се поддържа",
        },
    ),
    "VALIDATION_FAILED": (
        {
            "en": "Invalid input: {fields}",
            "zh": "输入无效：{fields}",
            "tr": "Geçersiz girdi: {fields}",
            "bg": "Невалидни данни: {fields}",
        },
        {
            "en": "Invalid input",
            "zh": "输入无效",
            "tr": "Geçersiz girdi",
            "bg": "Невалидни данни",
        },
    ),
    "RATE_LIMITED": (
        {
            "en": "Too many attempts: try again in {retry_after} seconds",
            "zh": "尝试次数过多：请在 {retry_after} 秒后重试",
            "tr": "Çok fazla deneme: {retry_after} saniye sonra yeniden deneyin",
            "bg": "Твърде много опити: опитайте отново след {retry_after} секунди",
        },
        {
            "en": "Too many requests: try again later",
            "zh": "请求过于频繁：请稍后重试",
            "tr": "Çok fazla istek: daha sonra yeniden deneyin",
            "bg": "Твърде много заявки: опитайте отново по-късно",
        },
    ),
    "INTERNAL": (
        {
            "en": "Internal error",
            "zh": "服务器内部错误",
            "tr": "Sunucu iç hatası",
            "bg": "Вътрешна грешка на сървъра",
        },
    ),
    "NOT_IMPLEMENTED": (
        {
            "en": "This operation is not implemented by the service",
            "zh": "该服务未实现此操作",
            "tr": "Bu işlem hizmet tarafından desteklenmiyor",
            "bg": "Тази операция не се поддържа от услугата",
        },
    ),
    "SERVICE_UNAVAILABLE": (
        {
            "en": "Service '{service}' is unavailable, try again later",
            "zh": "服务“{service}”暂时不可用，请稍后重试",
            "tr": "'{service}' hizmeti şu anda kullanılamıyor, daha sonra yeniden deneyin",
            "bg": "Услугата „{service}“ в момента не е достъпна, опитайте отново по-късно",
        },
        {
            "en": "The service is unavailable, try again later",
            "zh": "服务暂时不可用，请稍后重试",
            "tr": "Hizmet şu anda kullanılamıyor, daha sonra yeniden deneyin",
            "bg": "Услугата в момента не е достъпна, опитайте отново по-късно",
        },
    ),
    "TIMEOUT": (
        {
            "en": "Service '{service}' did not answer in time",
            "zh": "服务“{service}”未能及时响应",
            "tr": "'{service}' hizmeti zamanında yanıt vermedi",
            "bg": "Услугата „{service}“ не отговори навреме",
        },
        {
            "en": "The service did not answer in time",
            "zh": "服务未能及时响应",
            "tr": "Hizmet zamanında yanıt vermedi",
            "bg": "Услугата не отговори навреме",
        },
    ),
    "ERROR": (
        {
            "en": "The request failed",
            "zh": "请求失败",
            "tr": "İstek başarısız oldu",
            "bg": "Заявката не беше изпълнена",
        },
    ),
}

_MAX_LIST = 20  # values of a list placeholder shown (a 422 may name hundreds of rows)


def parse_accept_language(header: str | None) -> str | None:
    """The supported language the ``Accept-Language`` header prefers most, or None.

    ``zh-CN,zh;q=0.9,en;q=0.8`` → ``zh``; ``q=0`` refuses a language; ``*`` does not pick one
    (English stays the default); equal q-values keep the header's order.
    """
    if not header:
        return None
    refused: set[str] = set()
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:50]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if primary not in LANGUAGES:
            continue
        if quality <= 0:
            refused.add(primary)
            continue
        ranked.append((-min(quality, 1.0), position, primary))
    for _, _, language in sorted(ranked):
        if language not in refused:
            return language
    return None


def choose_language(profile_language: str | None, accept_language: str | None) -> str:
    """The profile language if it is a supported one, else the header's, else English."""
    if profile_language in LANGUAGES:
        return str(profile_language)
    return parse_accept_language(accept_language) or DEFAULT_LANGUAGE


def _placeholder_values(details: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    # the fields: keys with a list of reasons (or a dict of nested fields' reasons)
    fields = [
        key
        for key, value in details.items()
        if isinstance(value, dict)
        or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
    ]
    if fields:
        shown = sorted(fields)[:_MAX_LIST]
        values["fields"] = ", ".join(shown) + (", …" if len(fields) > _MAX_LIST else "")
    for key, value in details.items():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value):
            values[key] = str(value)
        elif isinstance(value, list) and value and all(isinstance(v, (str, int)) for v in value):
            values.setdefault(key, ", ".join(str(v) for v in value[:_MAX_LIST]))
    return values


def translate(code: str, language: str, message: str, details: Any) -> tuple[str, str]:
    """``(message, language it is in)`` for an error ``code`` shown to a ``language`` reader.

    English, or a code without a catalogue entry: the original message, in English. Otherwise
    the first template of the code whose placeholders ``details`` fill.
    """
    templates = MESSAGES.get(code)
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES or not templates:
        return message, DEFAULT_LANGUAGE
    values = _placeholder_values(details if isinstance(details, dict) else {})
    for template in templates:
        text = template[language]
        names = {name for _, name, _, _ in Formatter().parse(text) if name}
        if names <= values.keys():
            return text.format(**{name: values[name] for name in names}), language
    return message, DEFAULT_LANGUAGE  # unreachable while every code ends with a plain template
