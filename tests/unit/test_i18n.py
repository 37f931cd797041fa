"""Languages: catalogs, the zh-CN translation of every notice, formats and a third language."""
# ruff: noqa: RUF001 - full-width Chinese punctuation is what the zh-CN texts are made of

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

import csdomain
from csdomain.care import CarePlan, CareSubject, due_touchpoints
from csdomain.complaints import (
    ComplaintCategory,
    ComplaintClosed,
    ComplaintNature,
    ComplaintReceived,
    ComplaintStatus,
    ComplaintStatusChanged,
    ComplaintUrgency,
    FollowUpScheduled,
)
from csdomain.errors import ValidationError
from csdomain.events import Event
from csdomain.fieldservice.classification import ServiceOrderKind
from csdomain.fieldservice.events import ServiceOrderOpened, ServiceOrderStatusChanged
from csdomain.fieldservice.order import ServiceOrderStatus
from csdomain.i18n import (
    BUILTIN_CATALOG_DIR,
    available_languages,
    catalog_file,
    normalize_language,
    translator,
)
from csdomain.money import Money
from csdomain.notify import (
    CARE_TEXTS,
    COMPLAINT_STATUS_NOTICES,
    DEFAULT_TEMPLATES,
    ESCALATION_NOTICES,
    VALUE_LABELS,
    DealerAnnouncement,
    Message,
    MessageTemplate,
    NotificationPolicy,
    Rendering,
    care_texts,
    localized_care_message,
    messages_for,
    rendering,
)
from csdomain.notify import default_templates as default_templates_plugin
from csdomain.orders import (
    OrderConfirmed,
    OrderShipped,
    PaymentReminderDue,
    ShipmentLine,
    ShippingMode,
)
from csdomain.plugins import get_plugin_manager
from csdomain.satisfaction import SurveyResponseRecorded


T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ZH = Rendering("zh-CN")
EN = Rendering("en")
PO_FILE = BUILTIN_CATALOG_DIR / "zh_CN" / "LC_MESSAGES" / "csdomain.po"
POT_FILE = BUILTIN_CATALOG_DIR / "csdomain.pot"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _shipped(*, window: bool) -> OrderShipped:
    return OrderShipped(
        order_id="SO-202603-0001",
        customer_id="C-1",
        lines=(ShipmentLine("AB-100", 2),),
        mode=ShippingMode.EXPRESS,
        tracking="SF123",
        expected_earliest=date(2026, 3, 12) if window else None,
        expected_latest=date(2026, 3, 13) if window else None,
        at=T0,
        by="wh-1",
    )


def _complaint_status(to: ComplaintStatus) -> ComplaintStatusChanged:
    return ComplaintStatusChanged(
        complaint_id="CP-1",
        customer_id="C-1",
        from_status=ComplaintStatus.RECEIVED,
        to_status=to,
        at=T0,
        by="ops-1",
    )


def _job_status(to: ServiceOrderStatus) -> ServiceOrderStatusChanged:
    return ServiceOrderStatusChanged(
        job_id="SV-202603-0001",
        customer_id="C-1",
        from_status=ServiceOrderStatus.TRIAGED,
        to_status=to,
        at=T0,
        by="tech-1",
    )


def sample_events() -> Iterator[Event]:
    """One real event of the library for every default template (and its variants)."""
    yield OrderConfirmed(order_id="SO-202603-0001", customer_id="C-1", at=T0, by="ops-1")
    yield PaymentReminderDue(
        order_id="SO-202603-0001",
        customer_id="C-1",
        balance=Money.of("1234.50", "CNY"),
        confirmed_at=T0,
        at=T0,
    )
    yield _shipped(window=True)
    yield _shipped(window=False)
    yield ComplaintReceived(
        complaint_id="CP-1",
        customer_id="C-1",
        urgency=ComplaintUrgency.ORDINARY,
        category=ComplaintCategory.SERVICE,
        nature=ComplaintNature.NORMAL,
        at=T0,
        respond_by=T0 + timedelta(minutes=30),
        resolve_by=T0 + timedelta(hours=24),
        owner_role="specialist",
        owner_id="ops-1",
        by="ops-1",
    )
    for status in sorted(COMPLAINT_STATUS_NOTICES | {"rejected"}):
        yield _complaint_status(ComplaintStatus(status))
    yield ComplaintClosed(complaint_id="CP-1", customer_id="C-1", founded=True, at=T0, by="ops-1")
    yield FollowUpScheduled(
        complaint_id="CP-1",
        customer_id="C-1",
        planned_at=T0 + timedelta(days=2),
        due=T0 + timedelta(days=3),
    )
    yield SurveyResponseRecorded(
        response_id="SR-1",
        survey_id="SV-1",
        customer_id="C-1",
        campaign_id=None,
        nps_score=9,
        answered_at=T0,
        at=T0,
        by="ops-1",
    )
    yield ServiceOrderOpened(
        job_id="SV-202603-0001",
        kind=ServiceOrderKind.REPAIR,
        customer_id="C-1",
        product_serial="SN-1",
        urgency=ComplaintUrgency.URGENT,
        respond_by=T0 + timedelta(minutes=30),
        on_site_by=T0 + timedelta(hours=24),
        at=T0,
        by="ops-1",
    )
    yield _job_status(ServiceOrderStatus.DISPATCHED)
    yield _job_status(ServiceOrderStatus.EN_ROUTE)
    yield DealerAnnouncement(
        announcement_id="AN-202603-0001",
        customer_id="D-1",
        title="新价格表",
        text="新价格自四月起执行。",
        at=T0,
        by="ops-1",
    )


SAMPLES = list(sample_events())


def _check_filled(message: Message) -> None:
    for text in (message.subject, message.body):
        assert "{" not in text
        assert "}" not in text
        assert "None" not in text


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# -- every notice, in both languages ---------------------------------------------------


def test_every_default_template_applies_to_a_real_event_of_the_library() -> None:
    # Rule: templates for every notice the documents ask for (docs/domain.md 7), each
    # rendered from an event the library emits
    used = {
        (t.event_type, t.kind, t.variant) for e in SAMPLES for t in DEFAULT_TEMPLATES.for_event(e)
    }
    assert used == {(t.event_type, t.kind, t.variant) for t in DEFAULT_TEMPLATES.templates}
    kinds = {t.kind for t in DEFAULT_TEMPLATES.templates}
    assert kinds >= {
        "order_confirmed",
        "order_shipped",
        "payment_reminder",
        "complaint_received",
        "complaint_status",
        "complaint_closed",
        "follow_up_appointment",
        "survey_thanks",
        "service_request_received",
        "service_appointment",
        "technician_on_the_way",
        "dealer_announcement",
    }


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_notice_renders_in_chinese_and_english_without_a_missing_placeholder(
    event: Event,
) -> None:
    # Rule: customer messages in zh-CN and en; Chinese text is really Chinese
    (english,) = DEFAULT_TEMPLATES.render(event, EN)
    (chinese,) = DEFAULT_TEMPLATES.render(event, ZH)
    for message in (english, chinese):
        _check_filled(message)
        assert message.customer_id in {"C-1", "D-1"}
    assert english.language == "en"
    assert chinese.language == "zh-CN"
    if not isinstance(event, DealerAnnouncement):  # a dealer announcement is the staff's text
        assert CJK.search(chinese.body)
        assert CJK.search(chinese.subject)
        assert not CJK.search(english.body)
        assert chinese.body != english.body


def test_at_most_one_variant_of_a_kind_applies_to_an_event() -> None:
    # Rule: one notice per event and kind (variants exclude each other)
    for event in SAMPLES:
        kinds = [t.kind for t in DEFAULT_TEMPLATES.for_event(event)]
        assert len(kinds) == len(set(kinds)), event


def test_internal_complaint_steps_and_other_job_steps_send_no_status_notice() -> None:
    # Rule: a proposed or approved resolution is not promised to the customer (docs/domain.md 3.6)
    for status in ("received", "resolution_proposed", "resolution_approved", "closed"):
        assert DEFAULT_TEMPLATES.render(_complaint_status(ComplaintStatus(status))) == []
    assert DEFAULT_TEMPLATES.render(_job_status(ServiceOrderStatus.ON_SITE)) == []


def test_the_technician_on_the_way_notice_is_urgent() -> None:
    # Rule: rest hours hold a message unless urgent; a technician on the way cannot wait
    (notice,) = DEFAULT_TEMPLATES.render(_job_status(ServiceOrderStatus.EN_ROUTE), ZH)
    assert notice.urgent
    assert notice.body == "我们的技术人员已出发，正前往为您处理服务单 SV-202603-0001。"


def test_money_dates_and_times_are_formatted_the_languages_way() -> None:
    # Rule: money and dates per language (Babel)
    (zh,) = DEFAULT_TEMPLATES.render(_shipped(window=True), ZH)
    (en,) = DEFAULT_TEMPLATES.render(_shipped(window=True), EN)
    assert zh.body == "您的订单 SO-202603-0001 已通过快递发出，预计 2026年3月13日 前送达。"
    assert en.body == (
        "Your order SO-202603-0001 has been shipped by express delivery; it should arrive by "
        "March 13, 2026."
    )
    follow_up = next(e for e in SAMPLES if isinstance(e, FollowUpScheduled))
    (call,) = DEFAULT_TEMPLATES.render(follow_up, ZH)
    assert "2026年3月12日 10:00" in call.body  # 02:00 UTC is 10:00 in Shanghai
    tr = translator("zh-CN")
    assert tr.format_money(Money.of("1234.50", "CNY")) == "¥1,234.50"
    assert translator("en").format_money(Money.of("1234.50", "CNY")) == "CN¥1,234.50"


def test_staff_escalation_notices_have_chinese_texts_too() -> None:
    # Rule: the documents' users are Chinese service teams
    from csdomain.complaints import ComplaintEscalated, EscalationReason

    event = ComplaintEscalated(
        complaint_id="CP-1",
        from_level=1,
        to_level=2,
        reason=EscalationReason.RESPONSE_OVERDUE,
        at=T0,
        owner_role="department_manager",
        owner_id="mgr-7",
    )
    (notice,) = ESCALATION_NOTICES.render(event, ZH)
    assert notice.body == (
        "投诉 CP-1 已从第 1 级跟进升级至第 2 级（响应超时），现由您（department_manager）负责跟进。"
    )


# -- care touch-points -----------------------------------------------------------------


def test_the_care_texts_are_the_default_plans_and_all_have_chinese() -> None:
    # Rule: birthday, holiday greeting, maintenance reminder ... in zh-CN (docs/domain.md 3.5)
    plan_texts = {text for tp in CarePlan().touchpoints for text in (tp.subject, tp.body)}
    assert set(CARE_TEXTS) == plan_texts
    tr = translator("zh-CN")
    assert all(tr.has(text) for text in CARE_TEXTS)


def test_every_care_touchpoint_renders_in_chinese_from_a_real_occurrence() -> None:
    # Rule: care messages in the customer's language; names as on file, never guessed
    subject = CareSubject(
        customer_id="C-1",
        name="李雷",
        birthday=date(1990, 3, 20),
        job_completed_on=date(2026, 3, 9),
        handed_over_on=date(2026, 3, 9),
    )
    occurrences = due_touchpoints(
        CarePlan(),
        subject,
        T0,
        T0 + timedelta(days=800),
        holidays=[date(2026, 5, 1), date(2026, 10, 1)],
    )
    kinds = {o.kind for o in occurrences}
    assert kinds >= {"birthday", "holiday_greeting", "maintenance_reminder", "next_day_call"}
    for occurrence in occurrences:
        title, body, language = care_texts(occurrence, subject, ZH)
        assert language == "zh-CN"
        assert CJK.search(title)
        assert "{" not in body
        assert "李雷" in body
    maintenance = next(o for o in occurrences if o.kind == "maintenance_reminder")
    assert care_texts(maintenance, subject, ZH)[1] == (
        "李雷，您好！您的定期保养将于 2026年6月9日 到期，请回复预约。"
    )
    message = Message.create(
        channel="sms",
        recipient="13800000000",
        kind=maintenance.kind,
        body="English",
        at=T0,
        customer_id="C-1",
        source="care",
        key=maintenance.idempotency_key,
    )
    localized = localized_care_message(message, maintenance, subject, ZH)
    assert (localized.id, localized.language) == (message.id, "zh-CN")
    with pytest.raises(ValidationError):
        localized_care_message(message, occurrences[0], subject, ZH)


# -- catalogs --------------------------------------------------------------------------


def test_the_catalog_template_holds_exactly_the_marked_texts() -> None:
    # Rule: one source of texts: the marked strings are the template and the zh-CN catalog
    keywords = {"N_": None, "NP_": ((1, "c"), 2)}
    source = Path(csdomain.__file__).parent
    extracted = {
        (context, msgid)
        for _file, _line, msgid, _comments, context in extract_from_dir(
            source,
            method_map=[("**/notify/**.py", "python"), ("**/i18n/**.py", "python")],
            keywords=keywords,
        )
    }
    with POT_FILE.open("rb") as handle:
        pot = {(m.context, m.id) for m in read_po(handle) if m.id}
    with PO_FILE.open("rb") as handle:
        po = read_po(handle)
    assert extracted == pot
    translated = {(m.context, m.id): m.string for m in po if m.id and m.string and not m.fuzzy}
    assert set(translated) == pot
    for (_context, msgid), text in translated.items():
        assert isinstance(msgid, str)
        assert isinstance(text, str)
        assert _placeholders(text) == _placeholders(msgid), msgid


def test_every_coded_value_a_template_shows_has_a_chinese_label() -> None:
    # Rule: statuses and modes read as words in the customer's language
    tr = translator("zh-CN")
    assert all(tr.has(label, context) for context, label in VALUE_LABELS.values())
    for enum in (ComplaintStatus, ShippingMode, ServiceOrderKind):
        assert {(enum.__name__, m.value) for m in enum} <= set(VALUE_LABELS)


def test_language_tags_are_spelled_one_way_and_unknown_ones_refused() -> None:
    # Rule: bad input is a ValidationError naming the field
    assert [normalize_language(t) for t in ("zh_CN", "zh-cn", "en", "en_US")] == [
        "zh-CN",
        "zh-CN",
        "en",
        "en-US",
    ]
    for bad in ("", "xx_YY", "not a tag", 7):
        with pytest.raises(ValidationError) as refused:
            normalize_language(bad)
        assert refused.value.errors[0][0] == "language"
    with pytest.raises(ValidationError) as refused:
        NotificationPolicy(language="klingon")
    assert refused.value.errors[0][0] == "language"
    with pytest.raises(ValidationError):
        NotificationPolicy(time_zone="Mars/Olympus")


def test_the_report_machinery_month_names_numbers_and_plurals() -> None:
    # Rule: month names and number formats per language, for the report
    zh, en = translator("zh-CN"), translator("en")
    assert (zh.month_name(3), en.month_name(3), en.month_name(3, "abbreviated")) == (
        "三月",
        "March",
        "Mar",
    )
    assert (zh.month_label(2026, 3), en.month_label(2026, 3)) == ("2026年3月", "March 2026")
    assert (en.format_number(Decimal("12345.6")), en.format_percent(0.25)) == ("12,345.6", "25%")
    assert zh.format_date(date(2026, 3, 5)) == "2026年3月5日"
    assert en.ngettext("{n} day", "{n} days", 2) == "{n} days"
    with pytest.raises(ValidationError):
        zh.month_name(13)


def test_a_packaged_install_finds_the_built_in_catalog() -> None:
    # Rule: a fresh install works: the catalog ships inside the package
    assert catalog_file("zh-CN") == PO_FILE
    assert catalog_file("en") is None
    assert {"en", "zh-CN"} <= set(available_languages())


# -- a third language is one .po file ----------------------------------------------------


def _write_french(directory: Path, *, mo: bool = False) -> None:
    catalog = Catalog(locale="fr", domain="csdomain")
    catalog.add(
        "Your order {order_id} is confirmed. We ship as soon as payment arrives.",
        "Votre commande {order_id} est confirmée. Nous expédions dès réception du paiement.",
    )
    catalog.add("Order {order_id} confirmed", "Commande {order_id} confirmée")
    if mo:
        with (directory / "fr.mo").open("wb") as handle:
            write_mo(handle, catalog)
    else:
        with (directory / "fr.po").open("wb") as handle:
            write_po(handle, catalog)


def test_a_third_language_is_one_po_file(tmp_path: Path) -> None:
    # Rule: a third language is one .po file (a directory named by notifications.catalog_dirs)
    _write_french(tmp_path)
    policy = NotificationPolicy(language="fr", catalog_dirs=(str(tmp_path),))
    pm = get_plugin_manager(load_entrypoints=False)
    confirmed = SAMPLES[0]
    [message] = messages_for(
        confirmed,
        pm,
        at=T0,
        policy=policy,
        recipient_for=lambda _c, _ch: "13800000000",
    )
    assert message.body == (
        "Votre commande SO-202603-0001 est confirmée. Nous expédions dès réception du paiement."
    )
    assert message.language == "fr"
    assert "fr" in available_languages([tmp_path])
    assert translator("fr", [tmp_path]).format_money(Money.of("12.30", "CNY")) == "12,30\xa0CNY"


def test_a_missing_translation_falls_back_to_english_not_to_a_key(tmp_path: Path) -> None:
    # Rule: an untranslated notice is sent in English, whole, and says so
    _write_french(tmp_path)
    with rendering("fr", catalog_dirs=[str(tmp_path)]):
        (shipped,) = DEFAULT_TEMPLATES.render(_shipped(window=False))
    assert shipped.language == "en"
    assert shipped.body == (
        "Your order SO-202603-0001 has been shipped by express delivery; delivery usually "
        "takes 2-3 days."
    )


def test_a_compiled_mo_file_works_too(tmp_path: Path) -> None:
    # Rule: catalogs may be compiled (.mo) as gettext tools make them
    _write_french(tmp_path, mo=True)
    (message,) = DEFAULT_TEMPLATES.render(
        SAMPLES[0], Rendering("fr", catalog_dirs=(str(tmp_path),))
    )
    assert message.subject == "Commande SO-202603-0001 confirmée"


def test_a_broken_catalog_is_a_validation_error(tmp_path: Path) -> None:
    # Rule: bad input gets a ValidationError
    (tmp_path / "fr.po").write_text("garbage line\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        translator("fr", [tmp_path])
    assert refused.value.errors[0][0] == "catalog"


def test_a_translation_with_other_placeholders_is_not_used(tmp_path: Path) -> None:
    # Rule: a broken translation never breaks a notice: it is sent in English instead
    catalog = Catalog(locale="fr", domain="csdomain")
    catalog.add("Order {order_id} confirmed", "Commande {commande} confirmée")
    catalog.add(
        "Your order {order_id} is confirmed. We ship as soon as payment arrives.",
        "Votre commande {order_id} est confirmée.",
    )
    with (tmp_path / "fr.po").open("wb") as handle:
        write_po(handle, catalog)
    (message,) = DEFAULT_TEMPLATES.render(
        SAMPLES[0], Rendering("fr", catalog_dirs=(str(tmp_path),))
    )
    assert (message.subject, message.language) == ("Order SO-202603-0001 confirmed", "en")


def test_a_template_written_in_chinese_stays_chinese() -> None:
    # Rule: a template's own language is kept where the catalog has no translation
    own = MessageTemplate(
        event_type="OrderConfirmed",
        kind="order_confirmed_local",
        language="zh-CN",
        body="订单 {order_id} 已确认。",
    )
    for chosen in (ZH, EN):
        message = own.render(SAMPLES[0], chosen)
        assert (message.body, message.language) == ("订单 SO-202603-0001 已确认。", "zh-CN")


def test_the_default_plugin_renders_in_the_current_rendering() -> None:
    # Rule: the hook renders in the language messages_for chose
    with rendering("zh-CN"):
        (message,) = default_templates_plugin.csdomain_messages(SAMPLES[0])
    assert message.body == "您的订单 SO-202603-0001 已确认，我们将在收到货款后尽快发货。"
    (message,) = default_templates_plugin.csdomain_messages(SAMPLES[0])
    assert message.language == "en"
