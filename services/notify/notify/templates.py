"""The built-in notification templates (pure data, no I/O): subject and body per template and
language (en, zh, tr, bg), Jinja2 rendered by :func:`notify.domain.render`, and the names of
document types in each language.

Every template names documents by their numbers (``C-2026-000017``, ``INV-2026-000042``) and
falls back to the id only when the event carries no number. Approval templates use
``document_label`` (the document type in the template's language, set by ``render``). Invoice
templates use ``invoice_url`` (absolute, from ``CRM_PUBLIC_URL``: the customer portal's page for a
customer's contact, the console's for staff) and ``pdf_attached`` (the invoice PDF travels with
the e-mail)."""

from __future__ import annotations

T = dict[str, dict[str, dict[str, str]]]

# the document types approvals and tasks name, in each language (lower case: they stand inside
# sentences; ``|capitalize`` at the start of one)
DOCUMENT_LABELS: dict[str, dict[str, str]] = {
    "contract": {"en": "contract", "zh": "合同", "tr": "sözleşme", "bg": "договор"},
    "amendment": {"en": "amendment", "zh": "合同变更", "tr": "sözleşme değişikliği", "bg": "анекс"},
    "sales_application": {
        "en": "sales application",
        "zh": "销售申请",
        "tr": "satış başvurusu",
        "bg": "заявление за продажба",
    },
    "discount": {"en": "discount", "zh": "折扣", "tr": "indirim", "bg": "отстъпка"},
    "trade_in": {"en": "trade-in", "zh": "以旧换新", "tr": "takas", "bg": "замяна на старо с ново"},
    "dispatch_request": {
        "en": "dispatch request",
        "zh": "发货申请",
        "tr": "sevk talebi",
        "bg": "заявка за експедиция",
    },
    "credit_note": {
        "en": "credit note",
        "zh": "贷项通知单",
        "tr": "alacak dekontu",
        "bg": "кредитно известие",
    },
    "invoice": {"en": "invoice", "zh": "发票", "tr": "fatura", "bg": "фактура"},
    "termination": {"en": "termination", "zh": "合同终止", "tr": "fesih", "bg": "прекратяване"},
    "change_batch": {"en": "change batch", "zh": "批量变更", "tr": "toplu değişiklik", "bg": "пакет промени"},
}

_DOC = "{{ document_label }} {{ document_number or document_id }}"
_INV = "{{ invoice_number or invoice_id }}"
_CON = "{{ contract_number or contract_id }}"

DEFAULT_TEMPLATES: T = {
    "approval_requested": {
        "en": {
            "subject": f"Approval waiting for you: {_DOC}",
            "body": f"{{{{ submitter_name or 'A colleague' }}}} asks for your approval of {_DOC}. "
            "{{ summary or '' }}",
        },
        "zh": {
            "subject": f"待您审批：{_DOC}",
            "body": f"请审批{_DOC}。{{{{ summary or '' }}}}",
        },
        "tr": {
            "subject": f"Onayınızı bekliyor: {_DOC}",
            "body": f"Onayınızı bekleyen belge: {_DOC}. {{{{ summary or '' }}}}",
        },
        "bg": {
            "subject": f"Очаква вашето одобрение: {_DOC}",
            "body": "{{ document_label|capitalize }} {{ document_number or document_id }} очаква "
            "вашето одобрение. {{ summary or '' }}",
        },
    },
    "approval_overdue": {
        "en": {
            "subject": f"Approval overdue: {_DOC}",
            "body": f"The approval of {_DOC} has waited past its deadline. Please decide.",
        },
        "zh": {
            "subject": f"审批已超时：{_DOC}",
            "body": f"{_DOC} 的审批已超过期限，请尽快处理。",
        },
        "tr": {
            "subject": f"Onay süresi geçti: {_DOC}",
            "body": f"{_DOC} için onay süresi aşıldı. Lütfen karar verin.",
        },
        "bg": {
            "subject": f"Просрочено одобрение: {_DOC}",
            "body": f"Одобрението на {_DOC} чака след крайния срок. Моля, вземете решение.",
        },
    },
    "approval_approved": {
        "en": {
            "subject": f"Approved: {_DOC}",
            "body": "{{ document_label|capitalize }} {{ document_number or document_id }} was approved. "
            "{{ comment or '' }}",
        },
        "zh": {
            "subject": f"已批准：{_DOC}",
            "body": f"{_DOC} 已获批准。{{{{ comment or '' }}}}",
        },
        "tr": {
            "subject": f"Onaylandı: {_DOC}",
            "body": f"{_DOC} için onay talebi kabul edildi. {{{{ comment or '' }}}}",
        },
        "bg": {
            "subject": f"Одобрено: {_DOC}",
            "body": f"Искането за одобрение на {_DOC} е одобрено. {{{{ comment or '' }}}}",
        },
    },
    "approval_rejected": {
        "en": {
            "subject": f"Rejected: {_DOC}",
            "body": "{{ document_label|capitalize }} {{ document_number or document_id }} was rejected: "
            "{{ comment or '' }}",
        },
        "zh": {
            "subject": f"已驳回：{_DOC}",
            "body": f"{_DOC} 被驳回：{{{{ comment or '' }}}}",
        },
        "tr": {
            "subject": f"Reddedildi: {_DOC}",
            "body": f"{_DOC} için onay talebi reddedildi: {{{{ comment or '' }}}}",
        },
        "bg": {
            "subject": f"Отхвърлено: {_DOC}",
            "body": f"Искането за одобрение на {_DOC} е отхвърлено: {{{{ comment or '' }}}}",
        },
    },
    "contract_expiring": {
        "en": {
            "subject": f"Contract {_CON} expires in {{{{ days }}}} days",
            "body": "Dear {{ recipient_name or customer_name or 'customer' }}, contract "
            f"{_CON} with {{{{ customer_name or 'you' }}}} ends on {{{{ end_date }}}} "
            "({{ days }} days). Please contact us about its renewal.",
        },
        "zh": {
            "subject": f"合同 {_CON} 将在 {{{{ days }}}} 天后到期",
            "body": f"尊敬的{{{{ recipient_name or customer_name or '客户' }}}}：合同 {_CON} "
            "将于 {{ end_date }} 到期（剩余 {{ days }} 天）。请与我们联系办理续约。",
        },
        "tr": {
            "subject": f"{_CON} numaralı sözleşme {{{{ days }}}} gün içinde sona eriyor",
            "body": "Sayın {{ recipient_name or customer_name or 'müşterimiz' }}, "
            f"{_CON} numaralı sözleşme {{{{ end_date }}}} tarihinde sona eriyor "
            "({{ days }} gün). Yenileme için lütfen bizimle iletişime geçin.",
        },
        "bg": {
            "subject": f"Договор {_CON} изтича след {{{{ days }}}} дни",
            "body": "Уважаеми {{ recipient_name or customer_name or 'клиенте' }}, договор "
            f"{_CON} изтича на {{{{ end_date }}}} ({{{{ days }}}} дни). "
            "Моля, свържете се с нас за подновяване.",
        },
    },
    "contract_renewed": {
        "en": {
            "subject": f"Contract {_CON} renewed{{% if renewal_number %}} as {{{{ renewal_number }}}}{{% endif %}}",
            "body": f"Contract {_CON}{{% if customer_name %}} with {{{{ customer_name }}}}{{% endif %}} was renewed"
            "{% if renewal_number %}: the renewal is contract {{ renewal_number }}{% endif %}.",
        },
        "zh": {
            "subject": f"合同 {_CON} 已续约{{% if renewal_number %}}，新合同 {{{{ renewal_number }}}}{{% endif %}}",
            "body": f"{{% if customer_name %}}{{{{ customer_name }}}} 的{{% endif %}}合同 {_CON} 已续约"
            "{% if renewal_number %}，续约合同编号为 {{ renewal_number }}{% endif %}。",
        },
        "tr": {
            "subject": f"{_CON} numaralı sözleşme yenilendi{{% if renewal_number %}}: {{{{ renewal_number }}}}"
            "{% endif %}",
            "body": f"{{% if customer_name %}}{{{{ customer_name }}}} ile yapılan {{% endif %}}{_CON} numaralı "
            "sözleşme yenilendi{% if renewal_number %}; yeni sözleşmenin numarası {{ renewal_number }}"
            "{% endif %}.",
        },
        "bg": {
            "subject": f"Договор {_CON} е подновен{{% if renewal_number %}} с {{{{ renewal_number }}}}{{% endif %}}",
            "body": f"Договор {_CON}{{% if customer_name %}} с {{{{ customer_name }}}}{{% endif %}} е подновен"
            "{% if renewal_number %}: новият договор е {{ renewal_number }}{% endif %}.",
        },
    },
    "invoice_issued": {
        "en": {
            "subject": f"Invoice {_INV} issued",
            "body": f"Invoice {_INV} for {{{{ amount }}}} {{{{ currency }}}} is due on {{{{ due_date }}}}."
            "{% if pdf_attached %} The invoice PDF is attached.{% endif %}"
            "{% if invoice_url %}\n\nView it online: {{ invoice_url }}{% endif %}",
        },
        "zh": {
            "subject": f"发票 {_INV} 已开具",
            "body": f"发票 {_INV} 金额 {{{{ amount }}}} {{{{ currency }}}}，到期日 {{{{ due_date }}}}。"
            "{% if pdf_attached %}发票 PDF 见附件。{% endif %}"
            "{% if invoice_url %}\n\n在线查看：{{ invoice_url }}{% endif %}",
        },
        "tr": {
            "subject": f"{_INV} numaralı fatura düzenlendi",
            "body": f"{{{{ amount }}}} {{{{ currency }}}} tutarındaki {_INV} numaralı faturanın "
            "son ödeme tarihi {{ due_date }}.{% if pdf_attached %} Fatura PDF olarak ektedir.{% endif %}"
            "{% if invoice_url %}\n\nÇevrimiçi görüntüleyin: {{ invoice_url }}{% endif %}",
        },
        "bg": {
            "subject": f"Издадена фактура {_INV}",
            "body": f"Фактура {_INV} за {{{{ amount }}}} {{{{ currency }}}} е с падеж {{{{ due_date }}}}."
            "{% if pdf_attached %} Фактурата е приложена като PDF.{% endif %}"
            "{% if invoice_url %}\n\nВижте я онлайн: {{ invoice_url }}{% endif %}",
        },
    },
    "invoice_due_soon": {
        "en": {
            "subject": f"Invoice {_INV} is due on {{{{ due_date }}}}",
            "body": f"Invoice {_INV} ({{{{ amount }}}} {{{{ currency }}}}) falls due in 7 days."
            "{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
        "zh": {
            "subject": f"发票 {_INV} 将于 {{{{ due_date }}}} 到期",
            "body": f"发票 {_INV}（{{{{ amount }}}} {{{{ currency }}}}）将在 7 天后到期。"
            "{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
        "tr": {
            "subject": f"{_INV} numaralı faturanın son ödeme tarihi {{{{ due_date }}}}",
            "body": f"{_INV} numaralı faturanın ({{{{ amount }}}} {{{{ currency }}}}) son ödeme tarihine 7 gün kaldı."
            "{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
        "bg": {
            "subject": f"Фактура {_INV} е с падеж {{{{ due_date }}}}",
            "body": f"Падежът на фактура {_INV} ({{{{ amount }}}} {{{{ currency }}}}) е след 7 дни."
            "{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
    },
    "invoice_overdue": {
        "en": {
            "subject": f"Invoice {_INV} is overdue",
            "body": f"Invoice {_INV} of {{{{ customer_name or 'a customer' }}}} "
            "({{ amount_due or amount }} {{ currency }}) was due on {{ due_date }}. A collection task is open."
            "{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
        "zh": {
            "subject": f"发票 {_INV} 已逾期",
            "body": f"{{{{ customer_name or '' }}}} 的发票 {_INV}"
            "（{{ amount_due or amount }} {{ currency }}）已于 {{ due_date }} 到期。已创建催收任务。"
            "{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
        "tr": {
            "subject": f"{_INV} numaralı faturanın vadesi geçti",
            "body": f"{{{{ customer_name or 'Bir müşteri' }}}} için düzenlenen {_INV} numaralı faturanın "
            "({{ amount_due or amount }} {{ currency }}) son ödeme tarihi {{ due_date }} idi. "
            "Bir tahsilat görevi açıldı.{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
        "bg": {
            "subject": f"Фактура {_INV} е просрочена",
            "body": f"Фактура {_INV} на {{{{ customer_name or 'клиент' }}}} "
            "({{ amount_due or amount }} {{ currency }}) беше с падеж {{ due_date }}. "
            "Открита е задача за събиране.{% if invoice_url %}\n\n{{ invoice_url }}{% endif %}",
        },
    },
    "payment_received": {
        "en": {
            "subject": "Payment received: {{ amount }} {{ currency }}",
            "body": "A payment of {{ amount }} {{ currency }} from {{ customer_name or 'a customer' }} was received.",
        },
        "zh": {
            "subject": "已收到付款：{{ amount }} {{ currency }}",
            "body": "已收到{{ customer_name or '客户' }}的付款 {{ amount }} {{ currency }}。",
        },
        "tr": {
            "subject": "Ödeme alındı: {{ amount }} {{ currency }}",
            "body": "{{ customer_name or 'Bir müşteri' }} tarafından yapılan {{ amount }} {{ currency }} "
            "tutarındaki ödeme alındı.",
        },
        "bg": {
            "subject": "Получено плащане: {{ amount }} {{ currency }}",
            "body": "Получено е плащане от {{ amount }} {{ currency }} от {{ customer_name or 'клиент' }}.",
        },
    },
    "stock_low": {
        "en": {
            "subject": "Stock low: {{ sku or product_name or product_id }}",
            "body": "Available stock of {{ product_name or sku or product_id }} is {{ available }} "
            "(reorder point {{ reorder_point }}).",
        },
        "zh": {
            "subject": "库存不足：{{ sku or product_name or product_id }}",
            "body": "{{ product_name or sku or product_id }} 的可用库存为 {{ available }}"
            "（再订货点 {{ reorder_point }}）。",
        },
        "tr": {
            "subject": "Stok azaldı: {{ sku or product_name or product_id }}",
            "body": "{{ product_name or sku or product_id }} için kullanılabilir stok {{ available }} "
            "(yeniden sipariş noktası {{ reorder_point }}).",
        },
        "bg": {
            "subject": "Ниска наличност: {{ sku or product_name or product_id }}",
            "body": "Наличното количество на {{ product_name or sku or product_id }} е {{ available }} "
            "(точка за повторна поръчка {{ reorder_point }}).",
        },
    },
    "stock_dispatched": {
        "en": {
            "subject": "Dispatched for contract {{ contract_number or contract_id or document_id }}",
            "body": "Goods were dispatched for contract {{ contract_number or contract_id or document_id }}.",
        },
        "zh": {
            "subject": "合同 {{ contract_number or contract_id or document_id }} 已发货",
            "body": "合同 {{ contract_number or contract_id or document_id }} 的货物已发出。",
        },
        "tr": {
            "subject": "{{ contract_number or contract_id or document_id }} numaralı sözleşme için sevkiyat yapıldı",
            "body": "{{ contract_number or contract_id or document_id }} numaralı sözleşmenin malları sevk edildi.",
        },
        "bg": {
            "subject": "Експедирано по договор {{ contract_number or contract_id or document_id }}",
            "body": "Стоките по договор {{ contract_number or contract_id or document_id }} са експедирани.",
        },
    },
    "dispatch_approved": {
        "en": {
            "subject": "Dispatch approved: {{ document_number or document_id }}",
            "body": "Dispatch request {{ document_number or document_id }} was approved; please prepare it.",
        },
        "zh": {
            "subject": "发货已批准：{{ document_number or document_id }}",
            "body": "发货申请 {{ document_number or document_id }} 已获批准，请准备发货。",
        },
        "tr": {
            "subject": "Sevkiyat onaylandı: {{ document_number or document_id }}",
            "body": "{{ document_number or document_id }} numaralı sevk talebi onaylandı; lütfen hazırlayın.",
        },
        "bg": {
            "subject": "Одобрена експедиция: {{ document_number or document_id }}",
            "body": "Заявката за експедиция {{ document_number or document_id }} е одобрена; моля, подгответе я.",
        },
    },
    "follow_up_due": {
        "en": {
            "subject": "Follow-up due: {{ customer_name }}",
            "body": "Your next action with {{ customer_name }} ({{ customer_code }}) is due on {{ due_date }}."
            "{% if notes %} {{ notes }}{% endif %}",
        },
        "zh": {
            "subject": "跟进到期：{{ customer_name }}",
            "body": "您与 {{ customer_name }}（{{ customer_code }}）的下一步行动将于 {{ due_date }} 到期。"
            "{% if notes %}{{ notes }}{% endif %}",
        },
        "tr": {
            "subject": "Takip zamanı: {{ customer_name }}",
            "body": "{{ customer_name }} ({{ customer_code }}) ile bir sonraki adımınızın tarihi {{ due_date }}."
            "{% if notes %} {{ notes }}{% endif %}",
        },
        "bg": {
            "subject": "Предстоящо проследяване: {{ customer_name }}",
            "body": "Следващото ви действие с {{ customer_name }} ({{ customer_code }}) е на {{ due_date }}."
            "{% if notes %} {{ notes }}{% endif %}",
        },
    },
    "customer_birthday": {
        "en": {
            "subject": "Birthday today: {{ customer_name or name }}",
            "body": "{{ customer_name or name }} ({{ customer_code or code }}), an A-level customer, "
            "has a birthday today.",
        },
        "zh": {
            "subject": "今天生日：{{ customer_name or name }}",
            "body": "A 级客户 {{ customer_name or name }}（{{ customer_code or code }}）今天生日。",
        },
        "tr": {
            "subject": "Bugün doğum günü: {{ customer_name or name }}",
            "body": "A seviyesindeki müşterimiz {{ customer_name or name }} ({{ customer_code or code }}) "
            "bugün doğum gününü kutluyor.",
        },
        "bg": {
            "subject": "Рожден ден днес: {{ customer_name or name }}",
            "body": "{{ customer_name or name }} ({{ customer_code or code }}), клиент от ниво A, "
            "има рожден ден днес.",
        },
    },
    "webhook_disabled": {
        "en": {
            "subject": "Webhook {{ subscription_id }} disabled",
            "body": "The webhook to {{ url }} was disabled after {{ failures }} consecutive failed delivery attempts. "
            "Last error: {{ last_error }}",
        },
        "zh": {
            "subject": "Webhook {{ subscription_id }} 已停用",
            "body": "发往 {{ url }} 的 webhook 连续 {{ failures }} 次投递失败，已被停用。最后一次错误：{{ last_error }}",
        },
        "tr": {
            "subject": "Webhook {{ subscription_id }} devre dışı bırakıldı",
            "body": "{{ url }} adresine giden webhook, art arda {{ failures }} başarısız teslim denemesinden sonra "
            "devre dışı bırakıldı. Son hata: {{ last_error }}",
        },
        "bg": {
            "subject": "Уебхук {{ subscription_id }} е деактивиран",
            "body": "Уебхукът към {{ url }} е деактивиран след {{ failures }} поредни неуспешни опита за "
            "доставка. Последна грешка: {{ last_error }}",
        },
    },
    "service_request_created": {
        "en": {
            "subject": "{% if kind == 'renewal_quote' %}Renewal quote requested{% else %}Service call requested"
            f"{{% endif %}}: contract {_CON}"
            "{% if serial_number %}, serial number {{ serial_number }}{% endif %}",
            "body": "{{ customer_name or 'A customer' }} asks through the portal for "
            "{% if kind == 'renewal_quote' %}a renewal quote{% else %}a service call{% endif %} on contract "
            f"{_CON}{{% if product_name %}} ({{{{ product_name }}}}"
            "{% if serial_number %}, serial number {{ serial_number }}{% endif %}){% endif %}."
            "{% if message %} Message: {{ message }}{% endif %} A task is open for you.",
        },
        "zh": {
            "subject": "{% if kind == 'renewal_quote' %}续约报价请求{% else %}服务请求{% endif %}："
            f"合同 {_CON}{{% if serial_number %}}，序列号 {{{{ serial_number }}}}{{% endif %}}",
            "body": f"{{{{ customer_name or '客户' }}}} 通过客户门户就合同 {_CON}"
            "{% if product_name %}（{{ product_name }}{% if serial_number %}，序列号 {{ serial_number }}{% endif %}）"
            "{% endif %}申请{% if kind == 'renewal_quote' %}续约报价{% else %}上门服务{% endif %}。"
            "{% if message %}留言：{{ message }}{% endif %} 已为您创建任务。",
        },
        "tr": {
            "subject": "{% if kind == 'renewal_quote' %}Yenileme teklifi talebi{% else %}Servis talebi{% endif %}: "
            f"sözleşme {_CON}{{% if serial_number %}}, seri no {{{{ serial_number }}}}"
            "{% endif %}",
            "body": f"{{{{ customer_name or 'Bir müşteri' }}}}, portal üzerinden {_CON} "
            "numaralı sözleşme{% if product_name %} ({{ product_name }}{% if serial_number %}, seri no "
            "{{ serial_number }}{% endif %}){% endif %} için "
            "{% if kind == 'renewal_quote' %}yenileme teklifi{% else %}servis ziyareti{% endif %} istiyor."
            "{% if message %} Mesaj: {{ message }}{% endif %} Sizin için bir görev açıldı.",
        },
        "bg": {
            "subject": "{% if kind == 'renewal_quote' %}Заявка за оферта за подновяване{% else %}Заявка за "
            f"сервиз{{% endif %}}: договор {_CON}"
            "{% if serial_number %}, сериен номер {{ serial_number }}{% endif %}",
            "body": "{{ customer_name or 'Клиент' }} иска чрез портала "
            "{% if kind == 'renewal_quote' %}оферта за подновяване{% else %}сервизно посещение{% endif %} "
            f"по договор {_CON}{{% if product_name %}} ({{{{ product_name }}}}"
            "{% if serial_number %}, сериен номер {{ serial_number }}{% endif %}){% endif %}."
            "{% if message %} Съобщение: {{ message }}{% endif %} За вас е открита задача.",
        },
    },
    "portal_invitation": {
        "en": {
            "subject": "Your invitation to the customer portal{% if customer_name %} of {{ customer_name }}"
            "{% endif %}",
            "body": "Hello{% if full_name %} {{ full_name }}{% endif %},\n\nyou are invited to the customer "
            "portal{% if customer_name %} of {{ customer_name }}{% endif %}. Set your password here:\n"
            "{{ accept_url }}\n\nThe link expires on {{ expires_on }}.",
        },
        "zh": {
            "subject": "{% if customer_name %}{{ customer_name }} {% endif %}客户门户邀请",
            "body": "{% if full_name %}{{ full_name }}，{% endif %}您好：\n\n您受邀使用"
            "{% if customer_name %} {{ customer_name }} 的{% endif %}客户门户。请在此设置密码：\n"
            "{{ accept_url }}\n\n链接有效期至 {{ expires_on }}。",
        },
        "tr": {
            "subject": "{% if customer_name %}{{ customer_name }} {% endif %}müşteri portalına davetiniz",
            "body": "Merhaba{% if full_name %} {{ full_name }}{% endif %},\n\n"
            "{% if customer_name %}{{ customer_name }} için {% endif %}müşteri portalına davet edildiniz. "
            "Şifrenizi buradan belirleyin:\n{{ accept_url }}\n\nBağlantının geçerliliği {{ expires_on }} "
            "tarihinde sona erer.",
        },
        "bg": {
            "subject": "Покана за клиентския портал{% if customer_name %} на {{ customer_name }}{% endif %}",
            "body": "Здравейте{% if full_name %}, {{ full_name }}{% endif %},\n\nпоканени сте в клиентския "
            "портал{% if customer_name %} на {{ customer_name }}{% endif %}. Задайте паролата си тук:\n"
            "{{ accept_url }}\n\nВръзката изтича на {{ expires_on }}.",
        },
    },
    "generic": {
        "en": {"subject": "{{ event_type }}", "body": "{{ event_type }}: {{ summary or '' }}"},
    },
}
