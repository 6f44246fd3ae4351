"""Demo services of Kazan: administrative, municipal and social, with document checklists in ru/tt/en.

Ticket letters are derived from the order below (category prefix + letter): add new services at the
end of their category so existing letters stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.catalog import ChecklistItem, Offering, OnlineAlternative, ServicePublished
from contracts.common import LocalizedText as T

from catalog.demo.offices import EXPRESS_OFFICE
from catalog.domain import Category

GOSUSLUGI = "https://www.gosuslugi.ru/"
TATARSTAN = "https://uslugi.tatarstan.ru/"

# item_id -> (ru, tt, en)
DOCUMENTS: dict[str, tuple[str, str, str]] = {
    "passport": (
        "Паспорт гражданина РФ",
        "Россия Федерациясе гражданины паспорты",
        "Russian citizen's passport",
    ),
    "snils": ("СНИЛС", "СНИЛС (шәхси иминият счеты номеры)", "SNILS (individual insurance account number)"),
    "inn": ("ИНН", "ИНН (салым түләүченең идентификация номеры)", "Taxpayer number (INN)"),
    "application": (
        "Заявление (заполняется в офисе)",
        "Гариза (офиста тутырыла)",
        "Application form (filled in at the office)",
    ),
    "photo": ("Фотография 3×4 см", "3×4 см фотосурәт", "Photo, 3×4 cm"),
    "fee": (
        "Квитанция об оплате госпошлины",
        "Дәүләт пошлинасын түләү квитанциясе",
        "Receipt for the state fee",
    ),
    "birth_cert": (
        "Свидетельство о рождении ребёнка",
        "Баланың туу турында таныклыгы",
        "Child's birth certificate",
    ),
    "marriage_cert": ("Свидетельство о заключении брака", "Никах турында таныклык", "Marriage certificate"),
    "divorce_cert": (
        "Свидетельство о расторжении брака",
        "Никахны туктату турында таныклык",
        "Divorce certificate",
    ),
    "death_cert": ("Свидетельство о смерти", "Үлем турында таныклык", "Death certificate"),
    "medical_birth": (
        "Медицинское свидетельство о рождении",
        "Туу турында медицина таныклыгы",
        "Medical certificate of birth",
    ),
    "ownership": (
        "Выписка из ЕГРН или свидетельство о праве собственности",
        "ЕГРНнан өземтә яки милек хокукы турында таныклык",
        "Extract from the property register (EGRN) or title certificate",
    ),
    "social_lease": ("Договор социального найма", "Социаль наем шартнамәсе", "Social tenancy agreement"),
    "housing_right": (
        "Документ о праве пользования жильём",
        "Торактан файдалану хокукы турында документ",
        "Proof of the right to use the dwelling",
    ),
    "owner_consent": ("Согласие собственника жилья", "Торак милекчесенең ризалыгы", "Consent of the owner"),
    "house_book": ("Выписка из домовой книги", "Йорт кенәгәсеннән өземтә", "Extract from the house register"),
    "family_docs": (
        "Документы о родстве (свидетельства о рождении, браке)",
        "Туганлыкны раслаучы документлар (туу, никах турында таныклыклар)",
        "Proof of kinship (birth and marriage certificates)",
    ),
    "income": (
        "Справки о доходах всех членов семьи за 3 месяца",
        "Гаиләнең барлык әгъзаларының соңгы 3 айдагы керемнәре турында белешмәләр",
        "Income statements of all family members for the last 3 months",
    ),
    "income_year": (
        "Справки о доходах семьи за 12 месяцев",
        "Гаиләнең 12 айлык керемнәре турында белешмәләр",
        "Family income statements for the last 12 months",
    ),
    "bank": (
        "Реквизиты банковского счёта (карта «Мир»)",
        "Банк счеты реквизитлары («Мир» картасы)",
        "Bank account details (Mir card)",
    ),
    "disability": (
        "Справка МСЭ об инвалидности",
        "Инвалидлык турында МСЭ белешмәсе",
        "Disability certificate (medical and social expertise)",
    ),
    "veteran_id": (
        "Удостоверение ветерана или льготника",
        "Ветеран яки ташламалы таныклыгы",
        "Veteran's or benefit holder's certificate",
    ),
    "proxy": ("Нотариальная доверенность", "Нотариаль ышаныч кәгазе", "Notarised power of attorney"),
    "technical_plan": ("Технический план", "Техник план", "Technical plan"),
    "land_scheme": (
        "Схема расположения земельного участка на кадастровом плане",
        "Кадастр планында җир кишәрлегенең урнашу схемасы",
        "Site layout on the cadastral plan",
    ),
    "land_egrn": (
        "Выписка ЕГРН на земельный участок",
        "Җир кишәрлегенә ЕГРН өземтәсе",
        "EGRN extract for the land plot",
    ),
    "project_docs": ("Проектная документация", "Проект документлары", "Design documentation"),
    "gpzu": (
        "Градостроительный план земельного участка",
        "Җир кишәрлегенең шәһәр төзелеше планы",
        "Urban planning plan of the land plot (GPZU)",
    ),
    "redevelopment_project": ("Проект перепланировки", "Яңадан планлаштыру проекты", "Redevelopment project"),
    "tech_passport": (
        "Технический паспорт помещения",
        "Бинаның техник паспорты",
        "Technical passport of the premises",
    ),
    "contract": (
        "Договор (купли-продажи, дарения, мены)",
        "Шартнамә (сату-алу, бүләк итү, алмашу)",
        "Contract (sale, gift or exchange)",
    ),
    "business_extract": (
        "Выписка из ЕГРЮЛ / ЕГРИП",
        "ЕГРЮЛ / ЕГРИП өземтәсе",
        "Extract from the register of companies or sole traders",
    ),
    "ad_sketch": (
        "Эскиз рекламной конструкции",
        "Реклама конструкциясе эскизы",
        "Sketch of the advertising structure",
    ),
    "felling_plan": (
        "Схема вырубки и перечёт деревьев",
        "Агач кисү схемасы һәм агачлар исемлеге",
        "Felling plan with a tree count",
    ),
    "works_schedule": ("График производства работ", "Эшләр башкару графигы", "Works schedule"),
    "driver_license": ("Водительское удостоверение", "Йөртүче таныклыгы", "Driving licence"),
    "medical_report": ("Медицинское заключение", "Медицина бәяләмәсе", "Medical report"),
    "military_id": (
        "Военный билет (для военнообязанных)",
        "Хәрби билет (хәрби исәптә торучылар өчен)",
        "Military ID (for those liable for service)",
    ),
    "pregnancy": (
        "Справка о постановке на учёт по беременности",
        "Йөклелек буенча исәпкә алу турында белешмә",
        "Certificate of pregnancy registration",
    ),
    "large_family": (
        "Удостоверение многодетной семьи",
        "Күп балалы гаилә таныклыгы",
        "Large-family certificate",
    ),
    "school_cert": ("Справка из школы", "Мәктәптән белешмә", "Certificate from the school"),
    "residence_cert": (
        "Документ о регистрации по месту жительства ребёнка",
        "Баланың яшәү урыны буенча теркәлүе турында документ",
        "Proof of the child's registered address",
    ),
    "employment": (
        "Трудовая книжка или сведения о трудовой деятельности",
        "Хезмәт кенәгәсе яки хезмәт эшчәнлеге турында мәгълүмат",
        "Employment record",
    ),
    "awards": (
        "Документы о наградах и ведомственных знаках",
        "Бүләкләр һәм ведомство билгеләре турында документлар",
        "Documents on awards and departmental insignia",
    ),
    "utility_bills": (
        "Квитанции об оплате ЖКУ за последний месяц",
        "Соңгы ай өчен ТКХ түләү квитанцияләре",
        "Utility bills paid for the last month",
    ),
    "business_plan": (
        "Бизнес-план или план выхода из трудной ситуации",
        "Бизнес-план яки авыр хәлдән чыгу планы",
        "Business plan or plan to get out of hardship",
    ),
    "burial_cert": (
        "Справка о смерти для пособия на погребение",
        "Җирләүгә пособие өчен үлем турында белешмә",
        "Death certificate form for the funeral benefit",
    ),
    "emergency_act": (
        "Заключение о признании дома аварийным",
        "Йортны авария хәлендә дип тану турында бәяләмә",
        "Finding that the building is unsafe",
    ),
    "receipt": (
        "Расписка о приёме документов",
        "Документлар кабул итү турында расписка",
        "Receipt issued when the documents were accepted",
    ),
    "vehicle_docs": (
        "Свидетельство о регистрации транспортного средства",
        "Транспорт чарасын теркәү турында таныклык",
        "Vehicle registration certificate",
    ),
    "hunting_exam": (
        "Документ о проверке знаний требований охотничьего минимума",
        "Ау минимумы таләпләрен белүне тикшерү турында документ",
        "Proof of passing the hunting-rules test",
    ),
}

# Notes and exemptions that travel with some items: (item_id) -> (notes, exempt), each (ru, tt, en)
NOTES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, str, str] | None]] = {
    "passport": (
        None,
        (
            "Дети до 14 лет — свидетельство о рождении",
            "14 яшькә кадәрге балаларга — туу таныклыгы",
            "Children under 14: birth certificate instead",
        ),
    ),
    "snils": (
        (
            "Можно назвать номер, если документа нет при себе",
            "Документ булмаса, номерын әйтергә мөмкин",
            "Telling the number is enough if you do not have the card",
        ),
        None,
    ),
    "proxy": (
        (
            "Только если обращается представитель",
            "Вәкил мөрәҗәгать иткәндә генә",
            "Only when a representative applies",
        ),
        None,
    ),
    "fee": (
        (
            "Можно оплатить в офисе картой",
            "Офиста карта белән түләргә мөмкин",
            "Can be paid by card at the office",
        ),
        (
            "Льготники по закону освобождены",
            "Закон буенча ташламалылар азат ителә",
            "Exempt by law for eligible groups",
        ),
    ),
    "photo": (
        (
            "Цветная или чёрно-белая, на матовой бумаге",
            "Төсле яки ак-кара, матовый кәгазьдә",
            "Colour or black and white, matt paper",
        ),
        None,
    ),
    "income": (
        (
            "Не нужны, если доходы есть в базах ФНС и СФР",
            "Керемнәр ФНС һәм СФР базаларында булса, кирәкми",
            "Not needed when the income is already in the tax and social fund databases",
        ),
        None,
    ),
    "military_id": (
        None,
        (
            "Женщины и граждане старше 65 лет",
            "Хатын-кызлар һәм 65 яшьтән өлкәннәр",
            "Women and citizens over 65",
        ),
    ),
}

# Desks: which kind of zone handles a service; each office maps desks to its own zones.
DESK_ZONES: dict[str, dict[str, str]] = {
    EXPRESS_OFFICE: {"civil": "z1", "housing": "z2", "social": "z3", "issue": "z4"},
    "kzn-vakhitov": {"civil": "z1", "housing": "z1", "social": "z1", "issue": "z2"},
    "kzn-privolzh": {"civil": "z1", "housing": "z1", "social": "z2", "issue": "z3"},
    "kzn-novo-savin": {"civil": "z1", "housing": "z1", "social": "z1", "issue": "z2"},
}
# Land and construction are decided by the district administrations only.
ADMINISTRATION_OFFICES = (EXPRESS_OFFICE, "kzn-privolzh")

LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"
CATEGORY_PREFIX = {"administrative": "А", "municipal": "М", "social": "С"}


@dataclass(frozen=True)
class Row:
    service_id: str
    category: Category
    desk: str
    title: tuple[str, str, str]
    description: tuple[str, str]  # ru, en (Tatar falls back to Russian)
    minutes: int
    online: str | None  # the portal, None = only in person
    appointment: bool
    documents: tuple[str, ...]  # item ids; "id*" = a copy instead of the original
    administration_only: bool = False


R = Row
ROWS: list[Row] = [
    # ---- administrative (state services accepted by the office)
    R(
        "residence-registration",
        "administrative",
        "civil",
        (
            "Регистрация по месту жительства",
            "Яшәү урыны буенча теркәү",
            "Registration at the place of residence",
        ),
        ("Постоянная прописка по новому адресу", "Permanent registration at a new address"),
        15,
        GOSUSLUGI,
        True,
        ("passport", "application", "housing_right", "owner_consent", "military_id"),
    ),
    R(
        "temporary-registration",
        "administrative",
        "civil",
        ("Регистрация по месту пребывания", "Вакытлыча тору урыны буенча теркәү", "Temporary registration"),
        ("Временная регистрация на срок до 5 лет", "Registration at a temporary address for up to 5 years"),
        10,
        GOSUSLUGI,
        False,
        ("passport", "application", "housing_right", "owner_consent"),
    ),
    R(
        "deregistration",
        "administrative",
        "civil",
        ("Снятие с регистрационного учёта", "Теркәү исәбеннән төшерү", "Deregistration from an address"),
        ("Выписка с прежнего адреса", "Removal of a registration from a former address"),
        10,
        GOSUSLUGI,
        False,
        ("passport", "application"),
    ),
    R(
        "passport-replacement",
        "administrative",
        "civil",
        (
            "Замена паспорта РФ в 20 и 45 лет",
            "20 һәм 45 яшьтә Россия паспортын алмаштыру",
            "Replacing the Russian passport at 20 and 45",
        ),
        (
            "Замена паспорта по возрасту, при смене фамилии или порче",
            "Replacement by age, after a name change or damage",
        ),
        20,
        GOSUSLUGI,
        True,
        ("passport", "photo", "fee", "birth_cert", "marriage_cert*", "military_id"),
    ),
    R(
        "foreign-passport",
        "administrative",
        "civil",
        ("Оформление заграничного паспорта", "Чит ил паспортын рәсмиләштерү", "Passport for travel abroad"),
        ("Загранпаспорт старого образца на 5 лет", "Passport for travel abroad, 5-year type"),
        20,
        GOSUSLUGI,
        True,
        ("passport", "photo", "fee", "military_id", "employment*"),
    ),
    R(
        "snils-issue",
        "administrative",
        "civil",
        ("Получение СНИЛС", "СНИЛС алу", "Getting a SNILS number"),
        (
            "Регистрация в системе персонифицированного учёта",
            "Registration in the personal insurance records",
        ),
        10,
        None,
        False,
        ("passport", "birth_cert"),
    ),
    R(
        "inn-issue",
        "administrative",
        "civil",
        (
            "Свидетельство о постановке на учёт в налоговом органе (ИНН)",
            "Салым органында исәпкә кую таныклыгы (ИНН)",
            "Taxpayer number (INN) certificate",
        ),
        ("Присвоение ИНН физическому лицу", "Assignment of a taxpayer number to a person"),
        10,
        GOSUSLUGI,
        False,
        ("passport", "application"),
    ),
    R(
        "driver-license-replacement",
        "administrative",
        "civil",
        ("Замена водительского удостоверения", "Йөртүче таныклыгын алмаштыру", "Replacing a driving licence"),
        ("По истечении срока или при смене данных", "When it expires or personal data change"),
        15,
        GOSUSLUGI,
        True,
        ("passport", "driver_license", "medical_report", "fee", "photo"),
    ),
    R(
        "criminal-record-certificate",
        "administrative",
        "civil",
        (
            "Справка о наличии (отсутствии) судимости",
            "Хөкем ителгәнлек (ителмәгәнлек) турында белешмә",
            "Certificate of (no) criminal record",
        ),
        (
            "Нужна для работы с детьми, в образовании, для выезда",
            "Needed for work with children, in education, abroad",
        ),
        10,
        GOSUSLUGI,
        False,
        ("passport", "application"),
    ),
    R(
        "property-rights-registration",
        "administrative",
        "civil",
        (
            "Регистрация права собственности на недвижимость",
            "Күчемсез милеккә милек хокукын теркәү",
            "Registration of property rights",
        ),
        (
            "Оформление квартиры, дома или участка после сделки",
            "Registering a flat, house or plot after a transaction",
        ),
        25,
        GOSUSLUGI,
        True,
        ("passport", "contract", "fee", "owner_consent*", "proxy"),
    ),
    R(
        "egrn-extract",
        "administrative",
        "issue",
        ("Выписка из ЕГРН", "ЕГРНнан өземтә", "Extract from the real-estate register (EGRN)"),
        ("Сведения о собственнике и обременениях", "Owner and encumbrances of a property"),
        5,
        GOSUSLUGI,
        False,
        ("passport", "fee"),
    ),
    R(
        "cadastral-registration",
        "administrative",
        "civil",
        ("Постановка на кадастровый учёт", "Кадастр исәбенә кую", "Cadastral registration"),
        (
            "Учёт нового дома, гаража или изменения площади",
            "Registering a new house, garage or a change of area",
        ),
        20,
        GOSUSLUGI,
        True,
        ("passport", "technical_plan", "application"),
    ),
    R(
        "sole-trader-registration",
        "administrative",
        "civil",
        (
            "Регистрация индивидуального предпринимателя",
            "Шәхси эшмәкәрне теркәү",
            "Registering as a sole trader",
        ),
        ("Открытие ИП", "Starting a business as a sole trader"),
        15,
        GOSUSLUGI,
        False,
        ("passport", "inn", "application", "fee"),
    ),
    R(
        "hunting-license",
        "administrative",
        "civil",
        ("Выдача охотничьего билета", "Ау билеты бирү", "Hunting licence"),
        ("Охотничий билет единого федерального образца", "Hunting licence of the federal type"),
        10,
        GOSUSLUGI,
        False,
        ("passport", "photo", "hunting_exam"),
    ),
    R(
        "pension-account-statement",
        "administrative",
        "issue",
        (
            "Выписка о состоянии индивидуального лицевого счёта",
            "Шәхси хисап счеты торышы турында өземтә",
            "Pension account statement",
        ),
        ("Стаж и пенсионные баллы", "Length of service and pension points"),
        5,
        GOSUSLUGI,
        False,
        ("passport", "snils"),
    ),
    R(
        "birth-registration",
        "administrative",
        "civil",
        ("Государственная регистрация рождения", "Тууны дәүләт теркәве", "Registration of a birth"),
        ("Свидетельство о рождении для новорождённого", "Birth certificate for a newborn"),
        20,
        GOSUSLUGI,
        True,
        ("passport", "medical_birth", "marriage_cert"),
    ),
    R(
        "marriage-application",
        "administrative",
        "civil",
        (
            "Заявление о заключении брака",
            "Никах теркәве турында гариза",
            "Application to register a marriage",
        ),
        ("Выбор даты регистрации брака", "Choosing the date of the wedding registration"),
        15,
        GOSUSLUGI,
        True,
        ("passport", "fee", "divorce_cert"),
    ),
    R(
        "civil-certificate-duplicate",
        "administrative",
        "issue",
        (
            "Повторное свидетельство о рождении или браке",
            "Туу яки никах турында кабат таныклык",
            "Duplicate birth or marriage certificate",
        ),
        ("Взамен утерянного или испорченного", "Replacing a lost or damaged certificate"),
        10,
        GOSUSLUGI,
        False,
        ("passport", "fee"),
    ),
    R(
        "ready-documents",
        "administrative",
        "issue",
        ("Выдача готовых документов", "Әзер документларны бирү", "Collecting ready documents"),
        (
            "Получение результата по ранее поданному заявлению",
            "Collecting the result of an earlier application",
        ),
        5,
        None,
        False,
        ("passport", "receipt"),
    ),
    # ---- municipal (decided by the city's Executive Committee)
    R(
        "household-certificate",
        "municipal",
        "issue",
        ("Справка о составе семьи", "Гаилә составы турында белешмә", "Certificate of household composition"),
        (
            "Кто зарегистрирован в квартире: для пособий, субсидий и школы",
            "Who is registered at the address: for benefits, subsidies and school",
        ),
        10,
        TATARSTAN,
        True,
        ("passport", "ownership*", "family_docs"),
    ),
    R(
        "house-register-extract",
        "municipal",
        "issue",
        ("Выписка из домовой книги", "Йорт кенәгәсеннән өземтә", "Extract from the house register"),
        ("История регистрации по адресу", "Registration history of an address"),
        5,
        TATARSTAN,
        False,
        ("passport", "ownership*"),
    ),
    R(
        "social-housing-queue",
        "municipal",
        "housing",
        (
            "Постановка на учёт нуждающихся в жилых помещениях",
            "Торак урыннарына мохтаҗлар исәбенә кую",
            "Joining the waiting list for social housing",
        ),
        ("Очередь на жильё по договору социального найма", "Waiting list for a flat under a social tenancy"),
        25,
        TATARSTAN,
        True,
        ("passport", "family_docs", "income_year", "ownership*", "snils"),
    ),
    R(
        "housing-privatization",
        "municipal",
        "housing",
        (
            "Приватизация жилого помещения",
            "Торак урынны приватизацияләү",
            "Privatisation of a municipal flat",
        ),
        ("Передача муниципальной квартиры в собственность", "Transfer of a municipal flat into ownership"),
        30,
        None,
        True,
        ("passport", "social_lease", "house_book", "tech_passport*", "snils"),
    ),
    R(
        "social-lease-contract",
        "municipal",
        "housing",
        ("Заключение договора социального найма", "Социаль наем шартнамәсе төзү", "Social tenancy agreement"),
        ("Оформление или изменение договора найма", "Signing or changing a social tenancy agreement"),
        20,
        TATARSTAN,
        True,
        ("passport", "family_docs", "housing_right"),
    ),
    R(
        "redevelopment-approval",
        "municipal",
        "housing",
        (
            "Согласование перепланировки жилого помещения",
            "Торак урынны яңадан планлаштыруны килештерү",
            "Approval of a flat redevelopment",
        ),
        (
            "Перенос стен, объединение санузла, перенос кухни",
            "Moving walls, merging bathrooms, moving the kitchen",
        ),
        20,
        TATARSTAN,
        True,
        ("passport", "ownership*", "redevelopment_project", "tech_passport*", "owner_consent"),
    ),
    R(
        "residential-to-commercial",
        "municipal",
        "housing",
        (
            "Перевод жилого помещения в нежилое",
            "Торак урынны торак булмаган урынга күчерү",
            "Converting a dwelling to non-residential use",
        ),
        ("Например, под магазин или офис на первом этаже", "For instance a ground-floor shop or office"),
        25,
        TATARSTAN,
        True,
        ("passport", "ownership*", "tech_passport*", "project_docs", "owner_consent"),
        True,
    ),
    R(
        "building-permit",
        "municipal",
        "housing",
        ("Разрешение на строительство", "Төзелешкә рөхсәт", "Building permit"),
        (
            "Строительство или реконструкция объекта капитального строительства",
            "Construction or reconstruction of a permanent building",
        ),
        30,
        TATARSTAN,
        True,
        ("passport", "land_egrn*", "gpzu*", "project_docs"),
        True,
    ),
    R(
        "commissioning-permit",
        "municipal",
        "housing",
        (
            "Разрешение на ввод объекта в эксплуатацию",
            "Объектны файдалануга тапшыруга рөхсәт",
            "Permit to put a building into use",
        ),
        ("После завершения строительства", "After construction is finished"),
        30,
        TATARSTAN,
        True,
        ("passport", "land_egrn*", "technical_plan", "project_docs"),
        True,
    ),
    R(
        "urban-planning-plan",
        "municipal",
        "housing",
        (
            "Градостроительный план земельного участка",
            "Җир кишәрлегенең шәһәр төзелеше планы",
            "Urban planning plan of a land plot (GPZU)",
        ),
        ("Что и как можно строить на участке", "What may be built on a plot, and how"),
        15,
        TATARSTAN,
        False,
        ("passport", "land_egrn*"),
        True,
    ),
    R(
        "private-house-notice",
        "municipal",
        "housing",
        (
            "Уведомление о планируемом строительстве частного дома",
            "Шәхси йорт төзү турында хәбәрнамә",
            "Notice of planned construction of a private house",
        ),
        ("Уведомительный порядок для ИЖС", "Notice procedure for building a private house"),
        15,
        TATARSTAN,
        False,
        ("passport", "land_egrn*", "application"),
        True,
    ),
    R(
        "land-lease",
        "municipal",
        "housing",
        (
            "Предоставление земельного участка в аренду",
            "Җир кишәрлеген арендага бирү",
            "Leasing a municipal land plot",
        ),
        ("Аренда участка без торгов или по итогам торгов", "Leasing a plot with or without an auction"),
        25,
        TATARSTAN,
        True,
        ("passport", "land_scheme", "business_extract*", "proxy"),
        True,
    ),
    R(
        "land-scheme-approval",
        "municipal",
        "housing",
        (
            "Утверждение схемы расположения земельного участка",
            "Җир кишәрлеге урнашу схемасын раслау",
            "Approval of a land plot layout",
        ),
        ("Образование нового участка на кадастровом плане", "Forming a new plot on the cadastral plan"),
        20,
        TATARSTAN,
        False,
        ("passport", "land_scheme"),
        True,
    ),
    R(
        "land-for-large-families",
        "municipal",
        "housing",
        (
            "Бесплатный земельный участок многодетным семьям",
            "Күп балалы гаиләләргә бушлай җир кишәрлеге",
            "Free land plot for large families",
        ),
        (
            "Постановка на учёт для получения участка под ИЖС",
            "Waiting list for a free plot for a private house",
        ),
        20,
        TATARSTAN,
        True,
        ("passport", "large_family", "birth_cert", "marriage_cert"),
        True,
    ),
    R(
        "address-assignment",
        "municipal",
        "housing",
        (
            "Присвоение адреса объекту недвижимости",
            "Күчемсез милек объектына адрес бирү",
            "Assigning an address to a property",
        ),
        ("Адрес для нового дома или участка", "An address for a new house or plot"),
        15,
        TATARSTAN,
        False,
        ("passport", "land_egrn*", "technical_plan*"),
        True,
    ),
    R(
        "tree-felling-permit",
        "municipal",
        "housing",
        (
            "Разрешение на вырубку зелёных насаждений",
            "Яшел үсентеләрне кисүгә рөхсәт",
            "Permit to fell trees",
        ),
        ("Снос деревьев и кустарников на территории города", "Felling trees and shrubs within the city"),
        15,
        TATARSTAN,
        False,
        ("passport", "felling_plan", "land_egrn*"),
        True,
    ),
    R(
        "excavation-permit",
        "municipal",
        "housing",
        ("Ордер на производство земляных работ", "Җир эшләре башкаруга ордер", "Permit for excavation works"),
        ("Ремонт сетей, прокладка коммуникаций", "Repairing or laying utility lines"),
        15,
        TATARSTAN,
        False,
        ("passport", "project_docs", "works_schedule", "business_extract*"),
    ),
    R(
        "advertising-permit",
        "municipal",
        "housing",
        (
            "Разрешение на установку рекламной конструкции",
            "Реклама конструкциясе урнаштыруга рөхсәт",
            "Permit for an advertising structure",
        ),
        ("Вывески, щиты и баннеры", "Signs, boards and banners"),
        15,
        TATARSTAN,
        False,
        ("passport", "ad_sketch", "owner_consent", "fee", "business_extract*"),
    ),
    R(
        "kindergarten-queue",
        "municipal",
        "social",
        (
            "Постановка в очередь в детский сад",
            "Балалар бакчасына чиратка кую",
            "Place in the kindergarten queue",
        ),
        ("Электронная очередь в муниципальные детские сады", "Waiting list for municipal kindergartens"),
        10,
        TATARSTAN,
        False,
        ("passport", "birth_cert", "residence_cert", "snils"),
    ),
    R(
        "school-enrollment",
        "municipal",
        "social",
        ("Зачисление в школу", "Мәктәпкә кабул итү", "School enrolment"),
        ("Запись в первый класс или перевод", "Enrolment in the first grade or a transfer"),
        10,
        GOSUSLUGI,
        False,
        ("passport", "birth_cert", "residence_cert", "medical_report*"),
    ),
    R(
        "archive-certificate",
        "municipal",
        "issue",
        ("Архивная справка", "Архив белешмәсе", "Archive certificate"),
        (
            "Подтверждение стажа, зарплаты или решений исполкома",
            "Proof of employment, wages or Executive Committee decisions",
        ),
        10,
        TATARSTAN,
        False,
        ("passport", "employment*", "application"),
    ),
    R(
        "fair-stall",
        "municipal",
        "civil",
        ("Место на муниципальной ярмарке", "Муниципаль ярминкәдә урын", "A stall at a municipal fair"),
        ("Торговое место на сезонной ярмарке", "A trading place at a seasonal fair"),
        10,
        TATARSTAN,
        False,
        ("passport", "business_extract*"),
    ),
    R(
        "burial-plot",
        "municipal",
        "civil",
        ("Предоставление места для захоронения", "Җирләү урыны бирү", "Allocation of a burial plot"),
        ("Место на городском кладбище", "A plot at a city cemetery"),
        15,
        None,
        False,
        ("passport", "death_cert", "family_docs*"),
    ),
    R(
        "unsafe-housing-resettlement",
        "municipal",
        "housing",
        (
            "Переселение из аварийного жилья",
            "Авария хәлендәге торактан күчерү",
            "Resettlement from unsafe housing",
        ),
        ("Предоставление жилья взамен аварийного", "A new flat in place of one in an unsafe building"),
        30,
        None,
        True,
        ("passport", "emergency_act*", "ownership*", "family_docs"),
    ),
    R(
        "young-family-housing",
        "municipal",
        "housing",
        (
            "Участие в программе «Молодая семья»",
            "«Яшь гаилә» программасында катнашу",
            '"Young family" housing programme',
        ),
        ("Социальная выплата на покупку жилья", "A payment towards buying a home"),
        20,
        TATARSTAN,
        True,
        ("passport", "marriage_cert", "birth_cert", "income_year", "snils"),
    ),
    R(
        "resident-parking-permit",
        "municipal",
        "civil",
        ("Резидентное парковочное разрешение", "Резидент парковка рөхсәте", "Resident parking permit"),
        ("Парковка у дома в платной зоне", "Parking near home in the paid zone"),
        10,
        TATARSTAN,
        False,
        ("passport", "vehicle_docs", "ownership*"),
    ),
    # ---- social
    R(
        "unified-child-benefit",
        "social",
        "social",
        ("Единое пособие на детей", "Балаларга бердәм пособие", "Unified child benefit"),
        (
            "Ежемесячное пособие семьям с детьми до 17 лет и беременным",
            "Monthly benefit for families with children",
        ),
        15,
        GOSUSLUGI,
        False,
        ("passport", "birth_cert", "snils", "income", "bank"),
    ),
    R(
        "maternity-capital",
        "social",
        "social",
        (
            "Сертификат на материнский капитал",
            "Ана капиталына сертификат",
            "Maternity (family) capital certificate",
        ),
        ("Выдача сертификата при рождении второго ребёнка", "Certificate after the birth of a second child"),
        15,
        GOSUSLUGI,
        False,
        ("passport", "birth_cert", "snils"),
    ),
    R(
        "maternity-capital-use",
        "social",
        "social",
        ("Распоряжение материнским капиталом", "Ана капиталыннан файдалану", "Using maternity capital"),
        ("На жильё, образование или пенсию матери", "For housing, education or the mother's pension"),
        20,
        GOSUSLUGI,
        True,
        ("passport", "snils", "contract*", "bank"),
    ),
    R(
        "large-family-status",
        "social",
        "social",
        ("Удостоверение многодетной семьи", "Күп балалы гаилә таныклыгы", "Large-family certificate"),
        (
            "Статус для льгот семьям с тремя и более детьми",
            "Status for benefits of families with three or more children",
        ),
        15,
        TATARSTAN,
        False,
        ("passport", "birth_cert", "marriage_cert", "photo", "residence_cert"),
    ),
    R(
        "housing-subsidy",
        "social",
        "social",
        (
            "Субсидия на оплату жилья и коммунальных услуг",
            "Торак һәм коммуналь хезмәтләр өчен субсидия",
            "Housing and utility subsidy",
        ),
        ("Если платежи больше 22% дохода семьи", "When the bills exceed 22% of the family's income"),
        20,
        TATARSTAN,
        True,
        ("passport", "income", "utility_bills", "ownership*", "bank"),
    ),
    R(
        "utility-compensation",
        "social",
        "social",
        (
            "Компенсация расходов на ЖКУ льготным категориям",
            "Ташламалы категорияләргә ТКХ чыгымнарын компенсацияләү",
            "Utility cost compensation for eligible groups",
        ),
        ("Ветеранам, инвалидам, многодетным", "For veterans, people with disabilities and large families"),
        15,
        TATARSTAN,
        False,
        ("passport", "veteran_id", "utility_bills", "bank"),
    ),
    R(
        "low-income-status",
        "social",
        "social",
        ("Признание семьи малоимущей", "Гаиләне аз керемле дип тану", "Low-income family status"),
        ("Для льгот, питания в школе и соцконтракта", "For benefits, school meals and a social contract"),
        20,
        None,
        True,
        ("passport", "family_docs", "income", "ownership*"),
    ),
    R(
        "social-contract",
        "social",
        "social",
        ("Социальный контракт", "Социаль контракт", "Social contract"),
        (
            "Помощь в поиске работы, открытии дела или ведении хозяйства",
            "Support to find a job, start a business or run a smallholding",
        ),
        30,
        None,
        True,
        ("passport", "snils", "income", "business_plan", "bank"),
    ),
    R(
        "labour-veteran-title",
        "social",
        "social",
        ("Присвоение звания «Ветеран труда»", "«Хезмәт ветераны» исемен бирү", '"Veteran of labour" title'),
        (
            "Для награждённых ведомственными знаками при стаже",
            "For holders of departmental awards with long service",
        ),
        15,
        None,
        False,
        ("passport", "employment*", "awards*", "photo"),
    ),
    R(
        "disabled-parking-registry",
        "social",
        "social",
        (
            "Внесение в реестр парковок для инвалидов",
            "Инвалидлар өчен парковкалар реестрына кертү",
            "Parking registry for drivers with disabilities",
        ),
        (
            "Бесплатная парковка на местах для инвалидов",
            "Free parking in spaces for people with disabilities",
        ),
        10,
        GOSUSLUGI,
        False,
        ("passport", "disability", "vehicle_docs"),
    ),
    R(
        "sanatorium-voucher",
        "social",
        "social",
        (
            "Путёвка в санаторий для льготных категорий",
            "Ташламалы категорияләргә санаторийга юллама",
            "Sanatorium voucher for eligible persons",
        ),
        (
            "Санаторно-курортное лечение по медицинским показаниям",
            "Health-resort treatment on medical grounds",
        ),
        15,
        None,
        True,
        ("passport", "medical_report", "veteran_id", "snils"),
    ),
    R(
        "summer-camp-voucher",
        "social",
        "social",
        (
            "Путёвка в детский оздоровительный лагерь",
            "Балалар сәламәтләндерү лагерена юллама",
            "Children's summer camp voucher",
        ),
        ("Летний отдых детей от 7 до 17 лет", "Summer holidays for children aged 7 to 17"),
        10,
        TATARSTAN,
        False,
        ("passport", "birth_cert", "school_cert", "medical_report"),
    ),
    R(
        "free-school-meals",
        "social",
        "social",
        (
            "Бесплатное питание школьников из малоимущих семей",
            "Аз керемле гаиләләрдән мәктәп укучыларына бушлай туклану",
            "Free school meals for low-income families",
        ),
        ("Горячее питание в школе", "Hot meals at school"),
        10,
        TATARSTAN,
        False,
        ("passport", "birth_cert", "school_cert", "income"),
    ),
    R(
        "funeral-benefit",
        "social",
        "social",
        ("Социальное пособие на погребение", "Җирләүгә социаль пособие", "Funeral benefit"),
        ("Выплата тому, кто организовал похороны", "A payment to whoever arranged the funeral"),
        15,
        None,
        False,
        ("passport", "burial_cert", "bank"),
    ),
    R(
        "pension-assignment",
        "social",
        "social",
        ("Назначение пенсии", "Пенсия билгеләү", "Applying for a pension"),
        ("Страховая пенсия по старости или инвалидности", "Old-age or disability insurance pension"),
        25,
        GOSUSLUGI,
        True,
        ("passport", "snils", "employment", "military_id*", "bank"),
    ),
    R(
        "social-transport-card",
        "social",
        "social",
        ("Социальная транспортная карта", "Социаль транспорт картасы", "Social transport card"),
        ("Льготный проезд в городском транспорте", "Reduced fares on city transport"),
        10,
        None,
        False,
        ("passport", "veteran_id", "photo", "snils"),
    ),
    R(
        "care-allowance",
        "social",
        "social",
        (
            "Компенсация по уходу за нетрудоспособным",
            "Эшкә сәләтсезне карау өчен компенсация",
            "Allowance for caring for a disabled person",
        ),
        (
            "Выплата неработающему, кто ухаживает за инвалидом I группы или пожилым",
            "For a non-working carer of a person with group I disability or an elderly person",
        ),
        15,
        GOSUSLUGI,
        False,
        ("passport", "snils", "disability", "employment*"),
    ),
]


def _checklist_item(spec: str) -> ChecklistItem:
    item_id, copy = spec.rstrip("*"), spec.endswith("*")
    ru, tt, en = DOCUMENTS[item_id]
    notes, exempt = NOTES.get(item_id, (None, None))
    return ChecklistItem(
        item_id=item_id,
        title=T(ru=ru, tt=tt, en=en),
        original=not copy,
        copies=1 if copy else 0,
        notes=T(ru=notes[0], tt=notes[1], en=notes[2]) if notes else None,
        exempt=T(ru=exempt[0], tt=exempt[1], en=exempt[2]) if exempt else None,
    )


def _letters() -> dict[str, str]:
    letters: dict[str, str] = {}
    counters = dict.fromkeys(CATEGORY_PREFIX, 0)
    for row in ROWS:
        letters[row.service_id] = CATEGORY_PREFIX[row.category] + LETTERS[counters[row.category]]
        counters[row.category] += 1
    return letters


def _offerings(row: Row) -> list[Offering]:
    offices = ADMINISTRATION_OFFICES if row.administration_only else tuple(DESK_ZONES)
    return [Offering(office_id=office, zone_id=DESK_ZONES[office][row.desk]) for office in offices]


def demo_services() -> list[ServicePublished]:
    letters = _letters()
    return [
        ServicePublished(
            service_id=row.service_id,
            version=1,
            code=f"KZN-{row.category[:3].upper()}-{index:03d}",
            letter=letters[row.service_id],
            category=row.category,
            title=T(ru=row.title[0], tt=row.title[1], en=row.title[2]),
            description=T(ru=row.description[0], en=row.description[1]),
            expected_minutes=row.minutes,
            appointment_allowed=row.appointment,
            online=OnlineAlternative(available=row.online is not None, url=row.online),
            checklist=[_checklist_item(spec) for spec in row.documents],
            offerings=_offerings(row),
        )
        for index, row in enumerate(ROWS, start=1)
    ]
