"""Realistic multilingual test data for the benchmarks: people, companies, e-mail addresses,
phone numbers, addresses and whole customer rows in Chinese, Turkish, Bulgarian and English.

Everything is drawn from a ``random.Random`` the caller seeds, so a run is reproducible::

    import random, datagen
    rng = random.Random(42)
    datagen.company_name(rng, "tr")     # e.g. 'Yıldız Kaya Makine Sanayi ve Ticaret A.Ş.'
    datagen.person_name(rng, "bg")      # e.g. 'Десислава Петрова Иванова'
    datagen.customer_row(rng)           # one row of the customers CSV import (a dict)

    .venv/bin/python bench/datagen.py [--rows 12] [--seed 1]   # prints sample rows as CSV

The pools are small (30–60 entries per language) but combine into hundreds of thousands of
distinct names. Nothing here is guaranteed unique: a benchmark that needs unique customers
draws rows and skips the ones whose duplicate keys it has already seen
(``bench/customers_import.py``: ``UniqueRows``).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import unicodedata

LANGS = ("zh", "tr", "bg", "en")


def _words(text: str) -> list[str]:
    """A pool written as one string: space-separated, ``_`` for a space inside an entry."""
    return [w.replace("_", " ") for w in text.split()]


# -- people ---------------------------------------------------------------------------------------

#: Chinese family names (one Han character each) with their pinyin.
ZH_FAMILY = dict(
    zip(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈",
        "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie "
        "song tang xu han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai yu du ye cheng su wei "
        "lv ding ren shen".split(),
        strict=True,
    )
)
#: Characters Chinese given names are made of (one or two of them) with their pinyin.
ZH_GIVEN = dict(
    zip(
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红志建国文辉宇浩然子涵梓轩欣怡佳琪思雨晨博宁",
        "wei fang na min jing li qiang lei jun yang yong yan jie juan tao ming chao xiu xia ping gang gui "
        "ying hua yu lan hong zhi jian guo wen hui yu hao ran zi han zi xuan xin yi jia qi si yu chen bo "
        "ning".split(),
        strict=True,
    )
)
TR_GIVEN = (
    "Ahmet Mehmet Mustafa Ayşe Fatma Emine Hatice Zeynep Elif Özlem Gülşen Şükrü Çağla Çağrı Ömer Ümit "
    "Gökhan Tuğba Büşra İbrahim İsmail Işıl Irmak Oğuz Barış Doğan Selçuk Şebnem Hülya Yasemin Serkan "
    "Burak Ece Deniz Kübra Görkem Ilgın Sevgi Erdoğan Nilüfer"
).split()
TR_FAMILY = (
    "Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan Çetin "
    "Kara Koç Kurt Özkan Şimşek Polat Korkmaz Güneş Erdoğan Akgül Uçar Bulut Güler Işık Türkmen Altıntaş "
    "Çakır Karagöz Ünal Bozkurt Sarıkaya Coşkun Gündoğdu"
).split()
#: Bulgarian men's given names and the patronymic (masculine) made from each.
BG_GIVEN_M = dict(
    pair.split(":")
    for pair in (
        "Георги:Георгиев Иван:Иванов Димитър:Димитров Николай:Николаев Петър:Петров Христо:Христов "
        "Стефан:Стефанов Тодор:Тодоров Васил:Василев Александър:Александров Кирил:Кирилов "
        "Борислав:Бориславов Радослав:Радославов Любомир:Любомиров Станимир:Станимиров Асен:Асенов "
        "Калоян:Калоянов Огнян:Огнянов Пламен:Пламенов Цветан:Цветанов Ясен:Ясенов Явор:Яворов "
        "Живко:Живков Ангел:Ангелов"
    ).split()
)
BG_GIVEN_F = (
    "Мария Иванка Елена Йорданка Пенка Десислава Цветелина Гергана Румяна Виолета Теодора Божана "
    "Радка Снежана Юлия Ралица Калина Милена Анелия Жана"
).split()
#: Bulgarian family names in their masculine form; women's take "-а" (Петров → Петрова).
BG_FAMILY = (
    "Иванов Петров Георгиев Димитров Николов Христов Стоянов Тодоров Йорданов Ангелов Маринов Колев "
    "Попов Илиев Цветков Костов Русев Жеков Шишков Бъчваров Чолаков Щерев Юруков Ячев Вълчев Пеев "
    "Радев Дочев"
).split()
EN_GIVEN = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Margaret "
    "Anthony Emily Mark Olivia George Amelia Oliver Harry Sophie Chloe"
).split()
EN_FAMILY = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
    "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin "
    "Cooper Hill Ward Morris Moore Clark O'Brien Murphy McDonald"
).split()

# -- companies ------------------------------------------------------------------------------------

ZH_CITY = dict(
    zip(
        "北京 上海 广州 深圳 天津 重庆 杭州 南京 武汉 成都 西安 苏州 青岛 大连 厦门 宁波 沈阳 长沙 郑州 济南 合肥 福州".split(),
        "beijing shanghai guangzhou shenzhen tianjin chongqing hangzhou nanjing wuhan chengdu xian suzhou "
        "qingdao dalian xiamen ningbo shenyang changsha zhengzhou jinan hefei fuzhou".split(),
        strict=True,
    )
)
#: Trade names (字号) with their pinyin.
ZH_BRAND = dict(
    zip(
        "华通 恒信 宏达 金鼎 中科 天成 瑞丰 永泰 鑫源 东方 海纳 博远 新世纪 嘉和 长城 国泰 盛世 启明 联创 万达 "
        "安信 卓越 汇丰 星辰 蓝海 华夏 同创 兴业 鸿运 精工".split(),
        "huatong hengxin hongda jinding zhongke tiancheng ruifeng yongtai xinyuan dongfang haina boyuan "
        "xinshiji jiahe changcheng guotai shengshi qiming lianchuang wanda anxin zhuoyue huifeng xingchen "
        "lanhai huaxia tongchuang xingye hongyun jinggong".split(),
        strict=True,
    )
)
ZH_TRADE = (
    "科技 信息技术 办公设备 打印设备 数码 电子 贸易 实业 物流 商贸 文化传媒 网络科技 医疗器械 印务 机电 "
    "软件 建材 食品 教育科技 智能设备"
).split()
ZH_FORM = ("有限公司", "股份有限公司", "有限责任公司")

TR_BRAND = (
    "Yıldız Anadolu Ege Marmara Karadeniz Doğu Başak Güneş Öz Akdeniz Boğaziçi Ilgaz Kaçkar Uludağ "
    "Çınar Şahin Gökkuşağı Kartal Ünlü Işıklar Erciyes Ağrı Fırat Dicle Toros Kızılırmak Sakarya Ülker"
).split()
TR_TRADE = (
    "Makine", "Matbaacılık", "Bilişim", "Ofis Sistemleri", "Tekstil", "Gıda", "Lojistik", "Yazılım",
    "Elektronik", "İnşaat", "Otomotiv", "Kırtasiye", "Medikal", "Enerji", "Dış Ticaret", "Mühendislik",
)  # fmt: skip
TR_FORM = ("Sanayi ve Ticaret A.Ş.", "Ltd. Şti.", "A.Ş.", "Sanayi Ltd. Şti.", "Ticaret A.Ş.")

BG_BRAND = _words(
    "Балкан Родопи Пирин Витоша Струма Марица Дунав Тракия Стара_планина Странджа Искър Янтра Мизия "
    "Черноморец Добруджа Рила Хемус Одеса Арда Осъм Вит Огоста Камчия Тунджа Славянка Беласица Сакар "
    "Вихрен Мусала Шипка"
)
BG_TRADE = (
    "Принт", "Офис Техник", "Софт", "Инженеринг", "Логистик", "Трейд", "Консулт", "Строй", "Медикал",
    "Електроникс", "Агро", "Енерджи", "Системс", "Дизайн", "Инвест",
)  # fmt: skip
BG_FORM = ("ООД", "ЕООД", "АД", "ЕАД")
BG_QUALIFIER = "Груп Холдинг 2000 21 Плюс Ко България Запад Изток Север Юг Нова Про Бест Център".split()

EN_BRAND = (
    "Harbor Northgate Riverside Oakwood Summit Bluebell Greenfield Ashford Kingsway Meridian Redwood "
    "Silverline Bridgewater Thornbury Westbrook Highland Cedar Falcon Beacon Pinnacle Crescent Maple "
    "Sterling Horizon Lakeside Ironbridge Foxglove Whitestone Brighton Clearwater"
).split()
EN_TRADE = (
    "Print", "Office Systems", "Imaging", "Software", "Logistics", "Engineering", "Digital", "Supplies",
    "Consulting", "Medical", "Energy", "Facilities", "Networks", "Document Solutions", "Technologies",
)  # fmt: skip
EN_FORM = ("Ltd", "Limited", "PLC", "LLP", "Group Ltd")

# -- places ---------------------------------------------------------------------------------------

ZH_DISTRICT = (
    "朝阳区 海淀区 浦东新区 天河区 南山区 西湖区 鼓楼区 江汉区 武侯区 雁塔区 高新区 经济开发区".split()
)
ZH_STREET = "建国路 中山路 人民路 解放路 长安街 南京路 和平路 文化路 科技路 学院路 滨江大道 新华路".split()
TR_CITY = (
    "İstanbul Ankara İzmir Bursa Antalya Konya Adana Gaziantep Kayseri Eskişehir Muğla Şanlıurfa "
    "Diyarbakır Çanakkale Tekirdağ Kocaeli Trabzon Samsun Aydın Denizli Kırklareli Uşak"
).split()
TR_STREET = (
    "Atatürk Caddesi", "İstiklal Caddesi", "Cumhuriyet Bulvarı", "Gazi Mustafa Kemal Bulvarı",
    "Fevzi Çakmak Sokak", "Çiçek Sokak", "Bağdat Caddesi", "İnönü Caddesi", "Gül Sokak", "Şehitler Caddesi",
)  # fmt: skip
BG_CITY = _words(
    "София Пловдив Варна Бургас Русе Стара_Загора Плевен Сливен Добрич Шумен Перник Хасково Ямбол "
    "Пазарджик Благоевград Велико_Търново Враца Габрово Казанлък Видин Смолян Кърджали"
)
BG_STREET = (
    "бул. „Витоша“", "ул. „Граф Игнатиев“", "бул. „Цар Освободител“", "ул. „Шипка“", "бул. „България“",
    "ул. „Иван Вазов“", "бул. „Христо Ботев“", "ул. „Раковски“", "бул. „Мария Луиза“", "ул. „Опълченска“",
)  # fmt: skip
EN_CITY = (
    "London Manchester Birmingham Leeds Glasgow Liverpool Bristol Sheffield Edinburgh Leicester "
    "Coventry Bradford Cardiff Belfast Nottingham Southampton Brighton Plymouth Reading Derby York"
).split()
EN_STREET = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Park Avenue", "Queen Street", "Mill Lane", "King's Road",
)  # fmt: skip

INDUSTRY = {
    "zh": ("制造业", "零售", "教育", "医疗", "物流", "金融", "政府机关", "印刷"),
    "tr": ("İmalat", "Perakende", "Eğitim", "Sağlık", "Lojistik", "Finans", "Kamu", "Matbaa"),
    "bg": ("Производство", "Търговия", "Образование", "Здравеопазване", "Логистика", "Финанси", "Печат"),
    "en": ("Manufacturing", "Retail", "Education", "Healthcare", "Logistics", "Finance", "Printing"),
}
SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
TAGS = ("printers", "copiers", "service", "managed-print", "leasing", "toner", "vip", "public-sector")

# -- transliteration for ASCII e-mail addresses ---------------------------------------------------

_BG_LATIN = dict(
    zip(
        "абвгдежзийклмнопрстуфхцчшщъьюя",
        "a b v g d e zh z i y k l m n o p r s t u f h ts ch sh sht a y yu ya".split(),
        strict=True,
    )
)
_TR_LATIN = str.maketrans("çğıİöşüÇĞÖŞÜ", "cgiIosuCGOSU")
_PINYIN = {**ZH_FAMILY, **ZH_GIVEN, **ZH_BRAND, **ZH_CITY}
MAIL_DOMAINS = {
    "zh": ("qq.com", "163.com", "126.com", "sina.com", "aliyun.com"),
    "tr": ("gmail.com", "hotmail.com.tr", "yandex.com.tr", "ttmail.com"),
    "bg": ("abv.bg", "mail.bg", "gmail.com", "dir.bg"),
    "en": ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"),
}


def ascii_slug(text: str) -> str:
    """``"Георги Петров"`` → ``"georgi.petrov"``, ``"Çağla Öztürk"`` → ``"cagla.ozturk"``,
    ``"王伟"`` → ``"wang.wei"``: lower-case ASCII words joined by dots."""
    out: list[str] = []
    i = 0
    text = text.translate(_TR_LATIN)
    while i < len(text):
        # the longest pool entry (trade names and cities have two or three characters) first
        for size in (3, 2, 1):
            chunk = text[i : i + size]
            if len(chunk) == size and chunk in _PINYIN:
                out.append(f" {_PINYIN[chunk]} ")
                i += size
                break
        else:
            ch = text[i].lower()
            out.append(_BG_LATIN.get(ch, ch))
            i += 1
    s = unicodedata.normalize("NFKD", "".join(out)).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in s.lower()).split()
    return ".".join(words)


# -- generators -----------------------------------------------------------------------------------


def _lang(rng: random.Random, lang: str | None) -> str:
    if lang is None:
        return rng.choice(LANGS)
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}")
    return lang


def person_name(rng: random.Random, lang: str | None = None) -> str:
    """A person's full name as written in ``lang`` (random when None): ``王梓轩``,
    ``Çağla Öztürk``, ``Десислава Петрова``, ``Olivia Clark``."""
    lang = _lang(rng, lang)
    if lang == "zh":
        given = "".join(rng.choice(list(ZH_GIVEN)) for _ in range(rng.choice((1, 2, 2))))
        return rng.choice(list(ZH_FAMILY)) + given
    if lang == "tr":
        given = rng.choice(TR_GIVEN)
        if rng.random() < 0.3:  # a second given name is common
            given += " " + rng.choice(TR_GIVEN)
        return f"{given} {rng.choice(TR_FAMILY)}"
    if lang == "bg":
        patronymic = BG_GIVEN_M[rng.choice(list(BG_GIVEN_M))]
        family = rng.choice(BG_FAMILY)
        if rng.random() < 0.5:
            return f"{rng.choice(BG_GIVEN_F)} {patronymic}а {family}а"
        return f"{rng.choice(list(BG_GIVEN_M))} {patronymic} {family}"
    middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < 0.5 else ""
    return f"{rng.choice(EN_GIVEN)}{middle} {rng.choice(EN_FAMILY)}"


def company_name(rng: random.Random, lang: str | None = None) -> str:
    """A company's registered name: ``北京华通科技有限公司``, ``Yıldız Makine Sanayi ve Ticaret
    A.Ş.``, ``„Балкан Принт“ ООД``, ``Harbor Print Ltd``."""
    lang = _lang(rng, lang)
    if lang == "zh":
        name = (
            rng.choice(list(ZH_CITY))
            + rng.choice(list(ZH_BRAND))
            + rng.choice(ZH_TRADE)
            + rng.choice(ZH_FORM)
        )
        if rng.random() < 0.4:  # a branch in another city: 北京华通科技有限公司上海分公司
            name += rng.choice(list(ZH_CITY)) + "分公司"
        return name
    # most trade names have a second word: a family name or a place
    if lang == "tr":
        brand = rng.choice(TR_BRAND) if rng.random() < 0.6 else rng.choice(TR_FAMILY)
        if rng.random() < 0.85:
            brand += " " + rng.choice(TR_FAMILY + TR_CITY)
        return f"{brand} {rng.choice(TR_TRADE)} {rng.choice(TR_FORM)}"
    if lang == "bg":
        brand = rng.choice(BG_BRAND)
        if rng.random() < 0.85:
            brand += " " + rng.choice(BG_CITY + BG_QUALIFIER)
        return f"„{brand} {rng.choice(BG_TRADE)}“ {rng.choice(BG_FORM)}"
    brand = rng.choice(EN_BRAND)
    if rng.random() < 0.85:
        brand += " " + rng.choice(EN_CITY + EN_FAMILY)
    return f"{brand} {rng.choice(EN_TRADE)} {rng.choice(EN_FORM)}"


def email_for(name: str, rng: random.Random, lang: str | None = None) -> str:
    """An ASCII address made from ``name`` (transliterated), often with a number, at a mail
    provider common for ``lang`` (guessed from the name when None)."""
    lang = lang or guess_lang(name)
    words = ascii_slug(name).split(".")
    if len(words) > 3:  # a company: its first two words
        words = words[:2]
    local = ".".join(words) if rng.random() < 0.6 else "".join(words[:1] + [w[:1] for w in words[1:]])
    if rng.random() < 0.7:
        local += str(rng.randrange(1, 10_000))
    return f"{local or 'info'}@{rng.choice(MAIL_DOMAINS[lang])}"


def guess_lang(text: str) -> str:
    """The language a name is most likely in, from its script (Turkish by its letters)."""
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff":
            return "zh"
        if "\u0400" <= ch <= "\u04ff":
            return "bg"
        if ch in "çğıİöşüÇĞÖŞÜ":
            return "tr"
    return "en"


def phone(rng: random.Random, lang: str | None = None) -> str:
    """A mobile number in the country's usual notation: ``+86 138 1234 5678``,
    ``+90 532 123 45 67``, ``+359 88 123 4567``, ``+44 7700 900123``."""
    lang = _lang(rng, lang)

    def d(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    if lang == "zh":
        return f"+86 1{rng.choice('3456789')}{d(1)} {d(4)} {d(4)}"
    if lang == "tr":
        return f"+90 5{rng.choice('0345')}{d(1)} {d(3)} {d(2)} {d(2)}"
    if lang == "bg":
        return f"+359 8{rng.choice('789')} {d(3)} {d(4)}"
    return f"+44 7{d(3)} {d(6)}"


def city(rng: random.Random, lang: str | None = None) -> str:
    lang = _lang(rng, lang)
    return rng.choice(list(ZH_CITY) if lang == "zh" else {"tr": TR_CITY, "bg": BG_CITY, "en": EN_CITY}[lang])


def address(rng: random.Random, lang: str | None = None, town: str | None = None) -> str:
    """A postal address written the local way (in ``town`` when given)."""
    lang = _lang(rng, lang)
    town = town or city(rng, lang)
    if lang == "zh":
        return f"{town}市{rng.choice(ZH_DISTRICT)}{rng.choice(ZH_STREET)}{rng.randrange(1, 300)}号"
    if lang == "tr":
        return f"{rng.choice(TR_STREET)} No: {rng.randrange(1, 200)}, {rng.randrange(10, 81)}{rng.randrange(100, 999)} {town}"
    if lang == "bg":
        return f"{town} {rng.randrange(1000, 9999)}, {rng.choice(BG_STREET)} № {rng.randrange(1, 150)}"
    return f"{rng.randrange(1, 250)} {rng.choice(EN_STREET)}, {town} {rng.choice('BEGLMNS')}{rng.randrange(1, 30)} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def tax_id(rng: random.Random, lang: str | None = None) -> str:
    """A company's tax number in the country's format (random digits, not checksummed)."""
    lang = _lang(rng, lang)

    def d(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    if lang == "zh":  # unified social credit code
        return f"91{d(6)}{rng.choice('MA')}{d(8)}{rng.choice('0123456789ABCDEFGHJKLMNPQRTUWXY')}"
    if lang == "tr":  # VKN
        return d(10)
    if lang == "bg":  # VAT number from the EIK
        return f"BG{d(9)}"
    return f"GB{d(3)} {d(4)} {d(2)}"


def customer_row(rng: random.Random, lang: str | None = None) -> dict[str, str]:
    """One row of the customers CSV import (``customers.domain.IMPORT_COLUMNS``, every cell a
    string, empty when not given): a company (4 in 5) with its tax id, or a person."""
    lang = _lang(rng, lang)
    town = city(rng, lang)
    is_company = rng.random() < 0.8
    name = company_name(rng, lang) if is_company else person_name(rng, lang)
    birthday = ""
    if not is_company and rng.random() < 0.5:
        birthday = f"{rng.randrange(1950, 2004)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    return {
        "code": "",
        "name": name,
        "kind": "company" if is_company else "person",
        "tax_id": tax_id(rng, lang) if is_company else "",
        "email": email_for(name, rng, lang),
        "phone": phone(rng, lang),
        "industry": rng.choice(INDUSTRY[lang]),
        "region": town,
        "size": rng.choice(SIZES) if is_company else "",
        "level": rng.choice("AABBBCCCC"),
        "tags": ";".join(rng.sample(TAGS, rng.randrange(0, 3))),
        "owner_id": "",
        "language": lang,
        "address": address(rng, lang, town),
        "birthday": birthday,
        "notes": "",
        "red_listed": "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = [customer_row(rng) for _ in range(args.rows)]
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
