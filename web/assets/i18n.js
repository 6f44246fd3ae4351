// Texts of every screen in Russian, Tatar and English, and the per-screen language switch.

import { COUNTER_TEXTS } from "./texts-counter.js";

const TEXTS = {
  ru: {
    "lang.name": "Русский", "lang.short": "Рус",
    "app.name": "Одно окно",
    "common.back": "Назад", "common.cancel": "Отмена", "common.close": "Закрыть", "common.continue": "Дальше",
    "common.min": "{n} мин", "common.about_min": "≈ {n} мин", "common.loading": "Загрузка…",
    "common.retry": "Повторить", "common.yes": "Да", "common.no": "Нет", "common.save": "Сохранить",
    "common.office": "Офис", "common.service": "Услуга", "common.window": "Окно", "common.zone": "Зона",
    "common.today": "Сегодня", "common.language": "Язык", "common.signout": "Выйти", "common.print": "Печать",
    "common.none": "Нет", "common.required": "Заполните это поле",
    "net.lost": "Нет связи с сервером. Переподключаемся…", "net.back": "Связь восстановлена",
    "net.offline": "нет связи с сервером", "net.busy": "Запрос уже выполняется",
    "signin.title": "Вход для сотрудников", "signin.username": "Логин", "signin.password": "Пароль",
    "signin.submit": "Войти", "signin.as": "{user} · {office}",
    "state.waiting": "Ожидает", "state.called": "Вызван", "state.serving": "Обслуживается",
    "state.completed": "Обслужен", "state.done": "Обслужен", "state.no_show": "Неявка", "state.cancelled": "Отменён",
    "state.transferred": "Перенаправлен",
    "cat.administrative": "Административные", "cat.municipal": "Муниципальные", "cat.social": "Социальные",
    "cat.administrative.hint": "Паспорта, регистрация, справки", "cat.municipal.hint": "Жильё, земля, разрешения",
    "cat.social.hint": "Пособия, льготы, выплаты",
    "outcome.served": "Услуга оказана", "outcome.documents_missing": "Не хватает документов",
    "outcome.sent_online": "Направлен на госуслуги онлайн", "outcome.refused": "Отказ",
    "prio.none": "Нет, обычная очередь",

    "home.title": "Экраны «Одного окна»",
    "kiosk.title": "Электронная очередь", "kiosk.welcome": "Здравствуйте! Выберите услугу",
    "kiosk.search": "Поиск услуги", "kiosk.search.placeholder": "Например: справка, паспорт, пособие",
    "kiosk.search.go": "Найти", "kiosk.search.none": "Ничего не нашлось. Попробуйте другие слова или выберите раздел.",
    "kiosk.appointment": "У меня запись", "kiosk.appointment.hint": "Отметиться по коду записи",
    "kiosk.services": "Выберите услугу", "kiosk.minutes": "Приём ≈ {n} мин", "kiosk.online_badge": "Можно онлайн",
    "kiosk.checklist.title": "У вас есть эти документы?",
    "kiosk.checklist.original": "оригинал", "kiosk.checklist.copies": "копий: {n}",
    "kiosk.checklist.empty": "Документы не нужны.",
    "kiosk.checklist.yes": "Да, всё с собой", "kiosk.checklist.missing": "Чего-то не хватает",
    "kiosk.checklist.missing_hint": "Без этих документов услугу могут не оказать. Вы можете взять талон, чтобы получить консультацию, или прийти позже.",
    "kiosk.online.title": "Эту услугу можно получить из дома",
    "kiosk.online.text": "Наведите камеру телефона на код — откроется услуга на портале госуслуг. В очереди стоять не нужно.",
    "kiosk.online.continue": "Всё равно взять талон",
    "kiosk.priority.title": "Есть ли у вас право на обслуживание вне очереди?",
    "kiosk.phone.title": "Прислать SMS, когда подойдёт очередь?",
    "kiosk.phone.label": "Номер телефона (необязательно)", "kiosk.phone.placeholder": "+7 9XX XXX-XX-XX",
    "kiosk.phone.hint": "Номер нужен только для уведомлений и удаляется после визита.",
    "kiosk.take": "Получить талон", "kiosk.skip": "Без SMS",
    "kiosk.ticket.title": "Ваш талон", "kiosk.ticket.number": "Номер талона",
    "kiosk.ticket.position": "Перед вами: {n}", "kiosk.ticket.estimate": "Ожидание ≈ {n} мин",
    "kiosk.ticket.qr": "Следите за очередью с телефона", "kiosk.ticket.done": "Готово",
    "kiosk.ticket.watch": "Ожидайте вызова на табло",
    "kiosk.checkin.title": "Отметка о записи", "kiosk.checkin.code": "Код записи",
    "kiosk.checkin.placeholder": "Например: K7M3PX", "kiosk.checkin.submit": "Отметиться",
    "kiosk.setup.title": "Настройка киоска", "kiosk.setup.text": "Киоск не настроен: войдите под учётной записью киоска.",
    "kiosk.closed": "Офис сейчас закрыт",

    "board.title": "Табло", "board.calls": "Вызовы", "board.waiting": "Ожидают", "board.ticket": "Талон",
    "board.to_window": "Окно", "board.no_calls": "Вызовов пока нет", "board.people": "{n} чел.",
    "board.wait": "≈ {n} мин", "board.say": "Талон {number}, окно {window}",
    "board.sound_on": "Включить звук", "board.sound_is_on": "Звук включён",
    "board.live": "На связи", "board.reconnecting": "Переподключение…",

    "op.title": "Пульт оператора", "op.open.title": "Открыть окно", "op.open.window": "Номер окна",
    "op.open.services": "Услуги этого окна", "op.open.submit": "Открыть окно",
    "op.window": "Окно {n}", "op.status.open": "Открыто", "op.status.paused": "Перерыв", "op.status.closed": "Закрыто",
    "op.current": "Текущий талон", "op.idle": "Никого не обслуживаете. Вызовите следующего.",
    "op.call_next": "Вызвать следующего", "op.recall": "Повторный вызов", "op.no_show": "Не явился",
    "op.start": "Начать приём", "op.complete": "Завершить", "op.outcome": "Результат",
    "op.transfer": "Перенаправить", "op.transfer.to": "В услугу", "op.pause": "Перерыв", "op.resume": "Продолжить",
    "op.close": "Закрыть окно", "op.checklist": "Документы по услуге", "op.counts": "Сегодня",
    "op.count.served": "Обслужено", "op.count.no_show": "Неявки", "op.count.waiting": "В очереди",
    "op.count.transferred": "Перенаправлено",
    "op.waited": "Ждал {n} мин", "op.empty": "Очередь пуста", "op.calls": "Вызовов: {n}",

    "t.title": "Мой талон", "t.position": "Место в очереди", "t.ahead": "Перед вами: {n}",
    "t.estimate": "Ожидание", "t.state": "Состояние", "t.go": "Пройдите к окну {n}",
    "t.go.zone": "{zone}", "t.cancel": "Отменить талон", "t.cancel.confirm": "Точно отменить талон? Это нельзя вернуть.",
    "t.cancelled": "Талон отменён.", "t.done": "Визит завершён. Спасибо!", "t.no_show": "Вы не подошли по вызову.",
    "t.feedback": "Оценить обслуживание", "t.serving": "Вас обслуживают в окне {n}", "t.updated": "Обновлено {time}",

    "book.title": "Запись на приём", "book.office": "Офис", "book.service": "Услуга", "book.day": "День",
    "book.slots": "Свободное время", "book.no_slots": "На этот день свободного времени нет. Выберите другой день.",
    "book.phone": "Телефон для напоминаний (необязательно)", "book.submit": "Записаться",
    "book.done.title": "Вы записаны", "book.code": "Код для отметки в киоске", "book.manage": "Ссылка для управления записью",
    "book.when": "Когда", "book.pick_slot": "Выберите время",
    "book.manage.title": "Моя запись", "book.manage.cancel": "Отменить запись", "book.manage.move": "Перенести",
    "book.manage.cancelled": "Запись отменена.", "book.manage.moved": "Запись перенесена.",
    "book.manage.confirm": "Точно отменить запись?", "book.state": "Состояние",
    "appt.booked": "Записан", "appt.cancelled": "Отменена", "appt.checked_in": "Отметился", "appt.missed": "Пропущена",
    "appt.fulfilled": "Состоялась", "appt.rescheduled": "Перенесена",

    "fb.title": "Оцените обслуживание", "fb.rating": "Ваша оценка", "fb.tags": "Что повлияло на оценку?",
    "fb.comment": "Комментарий (необязательно)", "fb.submit": "Отправить",
    "fb.thanks": "Спасибо за оценку!", "fb.thanks.text": "Ваш отзыв поможет сделать обслуживание лучше.",
    "fb.star": "{n} из 5", "fb.pick": "Выберите оценку от 1 до 5",
    "tag.waiting_time": "Время ожидания", "tag.politeness": "Вежливость", "tag.competence": "Компетентность",
    "tag.comfort": "Комфорт", "tag.documents_unclear": "Непонятно с документами", "tag.online_would_do": "Сделал бы онлайн",
    "tag.speed": "Скорость", "tag.information": "Информирование",

    "sv.title": "Панель руководителя", "sv.live": "Очередь сейчас", "sv.waiting": "Ждут", "sv.longest": "Дольше всех",
    "sv.estimate": "Прогноз", "sv.windows": "Открытые окна", "sv.forecast": "Прогноз по нормативу",
    "sv.kpis": "Показатели дня", "sv.alerts": "Низкие оценки", "sv.ack": "Принять", "sv.resolve": "Закрыть",
    "sv.chart": "Поток за день", "sv.no_alerts": "Нет открытых сигналов", "sv.no_windows": "Нет открытых окон",
    "sv.kpi.visits": "Визитов", "sv.kpi.served": "Обслужено", "sv.kpi.avg_wait": "Среднее ожидание",
    "sv.kpi.avg_service": "Среднее обслуживание", "sv.kpi.no_shows": "Неявки", "sv.kpi.sla": "В пределах норматива",
    "sv.kpi.rating": "Средняя оценка", "sv.kpi.ratings": "Оценок", "sv.kpi.online": "Могли онлайн",
    "sv.sla.ok": "Норматив {sla} мин выдерживается", "sv.sla.risk": "Риск превышения норматива {sla} мин",
    "sv.sla.breach": "Норматив {sla} мин превышен", "sv.light.green": "до 10 мин", "sv.light.yellow": "11–20 мин",
    "sv.light.orange": "21–30 мин", "sv.light.red": "более 30 мин", "sv.chart.issued": "Выдано талонов",
    "sv.chart.served": "Обслужено", "sv.hour": "Час", "sv.rating_of": "Оценка {n}/5", "sv.operator": "Оператор",
    "sv.history": "История", "sv.from": "С", "sv.to": "По", "sv.last_week": "Прошлая неделя",
    "sv.last_month": "Прошлый месяц", "sv.show": "Показать", "sv.csv": "Скачать CSV",
    "sv.col.visits": "Визитов", "sv.col.p50": "Ожидание p50", "sv.col.p90": "Ожидание p90",
    "sv.col.service": "Обслуживание", "sv.col.no_shows": "Неявки", "sv.col.sla": "В нормативе", "sv.col.rating": "Оценка",
    "sv.by_service": "По услугам", "sv.by_operator": "По операторам", "sv.by_period": "По неделям и месяцам",
    "sv.period": "Период", "sv.week": "Неделя", "sv.month": "Месяц",
    "sv.digital": "Цифровая доля: заявления онлайн и в офисе", "sv.digital.online": "Онлайн",
    "sv.digital.in_office": "В офисе", "sv.digital.share": "Доля онлайн", "sv.digital.could": "Могли онлайн",
    "sv.digital.sent": "Направлены онлайн", "sv.digital.share_goal": "Доля онлайн (цель {goal}%)",
    "city.title": "Город: доля заявлений онлайн по офисам и услугам", "city.by_office": "По офисам", "city.by_service": "По услугам города",
    "city.below": "Услуг ниже цели", "city.offices": "Офисов", "city.summary": "Город: {share} онлайн при цели {goal}% — онлайн {online}, в офисах {in_office}",
    "sv.tl.TicketIssued": "Талон выдан", "sv.tl.TicketCalled": "Вызван", "sv.tl.ServiceStarted": "Начато обслуживание",
    "sv.tl.ServiceCompleted": "Обслуживание завершено", "sv.tl.TicketTransferred": "Переведён", "sv.tl.SlaBreached": "Норматив превышен",
    "sv.tl.TicketNoShow": "Не явился", "sv.tl.TicketCancelled": "Отменён",
    "sv.sla_feed": "Прогнозы и превышения", "sv.sla_none": "Пока ни одного",
    "sv.sla_predicted": "ждёт {waited} мин, прогноз {predicted} мин при норме {sla}", "sv.sla_breached": "ждёт {waited} мин — норма {sla} мин превышена",
    "sv.open_more": "Откройте ещё окон: {n} — «{service}»: ждут {waiting}, прогноз {minutes} мин",
    "ad.account": "Учётная запись", "ad.first_password": "Начальный пароль", "ad.title": "Администрирование", "ad.office": "Офис", "ad.staff": "Сотрудники", "ad.role": "Роль",
    "ad.status": "Состояние", "ad.actions": "Действия", "ad.create": "Новый сотрудник", "ad.create_button": "Создать",
    "ad.role.operator": "Оператор", "ad.role.supervisor": "Руководитель", "ad.role.kiosk": "Киоск", "ad.role.reception": "Консультант", "ad.role.admin": "Администратор",
    "ad.enable": "Включить", "ad.disable": "Отключить", "ad.reset": "Сбросить пароль", "ad.disabled": "Отключён", "ad.active": "Активен",
    "ad.new_password": "Новый пароль для {user}: {password} — передайте его лично, он показан один раз",
    "ad.settings": "Настройки офиса", "ad.sla_wait": "Норматив ожидания, мин", "ad.sla_appointment": "По записи, мин",
    "ad.hours": "Часы работы и перерывы", "ad.opens": "Открытие", "ad.closes": "Закрытие", "ad.breaks": "Перерывы",
    "ad.cutoff": "Выдача талонов прекращается до закрытия, мин:", "ad.windows": "окна",
    "ad.window_schedules": "Расписание окон и перерывы", "ad.window_n": "Окно {n}", "ad.own_schedule": "своё расписание",
    "ad.own_schedule_hint": "Окно без своего расписания работает в часы офиса; вне своего расписания окно нельзя открыть и вызвать.",
    "ad.recipients": "Кому писать о нормативе и низких оценках (по одному адресу в строке)",
    "ad.audit": "Журнал изменений", "ad.action": "Действие", "ad.actor": "Кто", "ad.target": "Что", "ad.any": "Любое",
    "ad.when": "Когда", "ad.before": "Было", "ad.after": "Стало", "ad.only_admins": "Этот экран — для администраторов",
    "ad.day.mon": "Пн", "ad.day.tue": "Вт", "ad.day.wed": "Ср", "ad.day.thu": "Чт", "ad.day.fri": "Пт", "ad.day.sat": "Сб", "ad.day.sun": "Вс",
    "nearby.title": "Рядом быстрее", "nearby.km": "{km} км", "nearby.line": "{office}, {distance}: ≈ {minutes} мин ожидания",
    "nearby.saves": "с дорогой быстрее на {n} мин", "nearby.take": "Взять талон туда (этот будет отменён)",
    "sv.acknowledged": "Принят", "sv.note": "Что сделано — для закрытия сигнала",
  },
  tt: {
    "lang.name": "Татарча", "lang.short": "Тат",
    "app.name": "Бер тәрәзә",
    "common.back": "Артка", "common.cancel": "Баш тарту", "common.close": "Ябу", "common.continue": "Алга",
    "common.min": "{n} мин", "common.about_min": "≈ {n} мин", "common.loading": "Йөкләнә…",
    "common.retry": "Кабатлау", "common.yes": "Әйе", "common.no": "Юк", "common.save": "Саклау",
    "common.office": "Офис", "common.service": "Хезмәт", "common.window": "Тәрәзә", "common.zone": "Зона",
    "common.today": "Бүген", "common.language": "Тел", "common.signout": "Чыгу", "common.print": "Басу",
    "common.none": "Юк", "common.required": "Бу кырны тутырыгыз",
    "net.lost": "Сервер белән элемтә юк. Яңадан тоташабыз…", "net.back": "Элемтә торгызылды",
    "net.offline": "сервер белән элемтә юк", "net.busy": "Сорау үтәлә",
    "signin.title": "Хезмәткәрләр өчен керү", "signin.username": "Логин", "signin.password": "Серсүз",
    "signin.submit": "Керү", "signin.as": "{user} · {office}",
    "state.waiting": "Көтә", "state.called": "Чакырылды", "state.serving": "Хезмәт күрсәтелә",
    "state.completed": "Хезмәт күрсәтелде", "state.done": "Хезмәт күрсәтелде", "state.no_show": "Килмәде",
    "state.cancelled": "Юкка чыгарылды", "state.transferred": "Юнәлтелде",
    "cat.administrative": "Административ", "cat.municipal": "Муниципаль", "cat.social": "Социаль",
    "cat.administrative.hint": "Паспортлар, теркәү, белешмәләр", "cat.municipal.hint": "Торак, җир, рөхсәтләр",
    "cat.social.hint": "Пособиеләр, ташламалар, түләүләр",
    "outcome.served": "Хезмәт күрсәтелде", "outcome.documents_missing": "Документлар җитми",
    "outcome.sent_online": "Онлайн хезмәткә юнәлтелде", "outcome.refused": "Баш тартылды",
    "prio.none": "Юк, гади чират",

    "home.title": "«Бер тәрәзә» экраннары",
    "kiosk.title": "Электрон чират", "kiosk.welcome": "Исәнмесез! Хезмәтне сайлагыз",
    "kiosk.search": "Хезмәт эзләү", "kiosk.search.placeholder": "Мәсәлән: белешмә, паспорт, пособие",
    "kiosk.search.go": "Табу", "kiosk.search.none": "Бернәрсә дә табылмады. Башка сүзләр белән карагыз яки бүлекне сайлагыз.",
    "kiosk.appointment": "Мин язылган", "kiosk.appointment.hint": "Язылу коды буенча билгеләнергә",
    "kiosk.services": "Хезмәтне сайлагыз", "kiosk.minutes": "Кабул итү ≈ {n} мин", "kiosk.online_badge": "Онлайн мөмкин",
    "kiosk.checklist.title": "Бу документлар сездә бармы?",
    "kiosk.checklist.original": "оригинал", "kiosk.checklist.copies": "күчермәләр: {n}",
    "kiosk.checklist.empty": "Документлар кирәкми.",
    "kiosk.checklist.yes": "Әйе, барысы да бар", "kiosk.checklist.missing": "Нәрсәдер җитми",
    "kiosk.checklist.missing_hint": "Бу документларсыз хезмәт күрсәтелмәскә мөмкин. Киңәш алу өчен талон алырга яки соңрак килергә мөмкин.",
    "kiosk.online.title": "Бу хезмәтне өйдән алырга мөмкин",
    "kiosk.online.text": "Телефон камерасын кодка юнәлтегез — дәүләт хезмәтләре порталында хезмәт ачылыр. Чиратта торырга кирәкми.",
    "kiosk.online.continue": "Барыбер талон алу",
    "kiosk.priority.title": "Сезнең чиратсыз хезмәт алу хокукыгыз бармы?",
    "kiosk.phone.title": "Чират җиткәч SMS җибәрергәме?",
    "kiosk.phone.label": "Телефон номеры (мәҗбүри түгел)", "kiosk.phone.placeholder": "+7 9XX XXX-XX-XX",
    "kiosk.phone.hint": "Номер хәбәрләр өчен генә кирәк һәм визиттан соң бетерелә.",
    "kiosk.take": "Талон алу", "kiosk.skip": "SMS кирәкми",
    "kiosk.ticket.title": "Сезнең талон", "kiosk.ticket.number": "Талон номеры",
    "kiosk.ticket.position": "Алдыгызда: {n}", "kiosk.ticket.estimate": "Көтү ≈ {n} мин",
    "kiosk.ticket.qr": "Чиратны телефоннан күзәтегез", "kiosk.ticket.done": "Әзер",
    "kiosk.ticket.watch": "Таблода чакыруны көтегез",
    "kiosk.checkin.title": "Язылуны билгеләү", "kiosk.checkin.code": "Язылу коды",
    "kiosk.checkin.placeholder": "Мәсәлән: K7M3PX", "kiosk.checkin.submit": "Билгеләнү",
    "kiosk.setup.title": "Киоскны көйләү", "kiosk.setup.text": "Киоск көйләнмәгән: киоск хисап язмасы белән керегез.",
    "kiosk.closed": "Офис хәзер ябык",

    "board.title": "Табло", "board.calls": "Чакырулар", "board.waiting": "Көтәләр", "board.ticket": "Талон",
    "board.to_window": "Тәрәзә", "board.no_calls": "Әлегә чакырулар юк", "board.people": "{n} кеше",
    "board.wait": "≈ {n} мин", "board.say": "Талон {number}, {window} нче тәрәзә",
    "board.sound_on": "Тавышны кабызу", "board.sound_is_on": "Тавыш кабызылган",
    "board.live": "Элемтәдә", "board.reconnecting": "Яңадан тоташу…",

    "op.title": "Оператор пульты", "op.open.title": "Тәрәзәне ачу", "op.open.window": "Тәрәзә номеры",
    "op.open.services": "Бу тәрәзәнең хезмәтләре", "op.open.submit": "Тәрәзәне ачу",
    "op.window": "{n} нче тәрәзә", "op.status.open": "Ачык", "op.status.paused": "Тәнәфес", "op.status.closed": "Ябык",
    "op.current": "Хәзерге талон", "op.idle": "Беркемгә дә хезмәт күрсәтмисез. Чираттагыны чакырыгыз.",
    "op.call_next": "Чираттагыны чакыру", "op.recall": "Кабат чакыру", "op.no_show": "Килмәде",
    "op.start": "Кабул итүне башлау", "op.complete": "Тәмамлау", "op.outcome": "Нәтиҗә",
    "op.transfer": "Юнәлтү", "op.transfer.to": "Хезмәткә", "op.pause": "Тәнәфес", "op.resume": "Дәвам итү",
    "op.close": "Тәрәзәне ябу", "op.checklist": "Хезмәт буенча документлар", "op.counts": "Бүген",
    "op.count.served": "Хезмәт күрсәтелде", "op.count.no_show": "Килмәүләр", "op.count.waiting": "Чиратта",
    "op.count.transferred": "Юнәлтелде",
    "op.waited": "{n} мин көтте", "op.empty": "Чират буш", "op.calls": "Чакырулар: {n}",

    "t.title": "Минем талон", "t.position": "Чираттагы урын", "t.ahead": "Алдыгызда: {n}",
    "t.estimate": "Көтү", "t.state": "Хәле", "t.go": "{n} нче тәрәзәгә узыгыз",
    "t.go.zone": "{zone}", "t.cancel": "Талонны юкка чыгару", "t.cancel.confirm": "Талонны чыннан да юкка чыгарырга? Аны кире кайтарып булмый.",
    "t.cancelled": "Талон юкка чыгарылды.", "t.done": "Визит тәмамланды. Рәхмәт!", "t.no_show": "Сез чакыру буенча килмәдегез.",
    "t.feedback": "Хезмәтне бәяләү", "t.serving": "Сезгә {n} нче тәрәзәдә хезмәт күрсәтәләр", "t.updated": "{time} яңартылды",

    "book.title": "Кабул итүгә язылу", "book.office": "Офис", "book.service": "Хезмәт", "book.day": "Көн",
    "book.slots": "Буш вакыт", "book.no_slots": "Бу көнгә буш вакыт юк. Башка көнне сайлагыз.",
    "book.phone": "Искә төшерүләр өчен телефон (мәҗбүри түгел)", "book.submit": "Язылу",
    "book.done.title": "Сез язылдыгыз", "book.code": "Киоскта билгеләнү өчен код", "book.manage": "Язылуны идарә итү сылтамасы",
    "book.when": "Кайчан", "book.pick_slot": "Вакытны сайлагыз",
    "book.manage.title": "Минем язылу", "book.manage.cancel": "Язылуны юкка чыгару", "book.manage.move": "Күчерү",
    "book.manage.cancelled": "Язылу юкка чыгарылды.", "book.manage.moved": "Язылу күчерелде.",
    "book.manage.confirm": "Язылуны чыннан да юкка чыгарырга?", "book.state": "Хәле",
    "appt.booked": "Язылган", "appt.cancelled": "Юкка чыгарылды", "appt.checked_in": "Билгеләнде", "appt.missed": "Калдырылды",
    "appt.fulfilled": "Булды", "appt.rescheduled": "Күчерелде",

    "fb.title": "Хезмәтне бәяләгез", "fb.rating": "Сезнең бәя", "fb.tags": "Бәягә нәрсә йогынты ясады?",
    "fb.comment": "Искәрмә (мәҗбүри түгел)", "fb.submit": "Җибәрү",
    "fb.thanks": "Бәягез өчен рәхмәт!", "fb.thanks.text": "Сезнең фикер хезмәтне яхшыртырга ярдәм итәчәк.",
    "fb.star": "5 тән {n}", "fb.pick": "1 дән 5 кә кадәр бәя сайлагыз",
    "tag.waiting_time": "Көтү вакыты", "tag.politeness": "Әдәплелек", "tag.competence": "Белемлелек",
    "tag.comfort": "Уңайлылык", "tag.documents_unclear": "Документлар аңлашылмый", "tag.online_would_do": "Онлайн эшләр идем",
    "tag.speed": "Тизлек", "tag.information": "Мәгълүмат бирү",

    "sv.title": "Җитәкче панеле", "sv.live": "Хәзерге чират", "sv.waiting": "Көтәләр", "sv.longest": "Иң озак",
    "sv.estimate": "Фаразлау", "sv.windows": "Ачык тәрәзәләр", "sv.forecast": "Норматив буенча фараз",
    "sv.kpis": "Көн күрсәткечләре", "sv.alerts": "Түбән бәяләр", "sv.ack": "Кабул итү", "sv.resolve": "Ябу",
    "sv.chart": "Көн дәвамындагы агым", "sv.no_alerts": "Ачык сигналлар юк", "sv.no_windows": "Ачык тәрәзәләр юк",
    "sv.kpi.visits": "Визитлар", "sv.kpi.served": "Хезмәт күрсәтелде", "sv.kpi.avg_wait": "Уртача көтү",
    "sv.kpi.avg_service": "Уртача хезмәт", "sv.kpi.no_shows": "Килмәүләр", "sv.kpi.sla": "Норматив эчендә",
    "sv.kpi.rating": "Уртача бәя", "sv.kpi.ratings": "Бәяләр", "sv.kpi.online": "Онлайн була ала иде",
    "sv.sla.ok": "{sla} мин нормативы үтәлә", "sv.sla.risk": "{sla} мин нормативын арттыру куркынычы",
    "sv.sla.breach": "{sla} мин нормативы арттырылды", "sv.light.green": "10 мин кадәр", "sv.light.yellow": "11–20 мин",
    "sv.light.orange": "21–30 мин", "sv.light.red": "30 мин артык", "sv.chart.issued": "Бирелгән талоннар",
    "sv.chart.served": "Хезмәт күрсәтелде", "sv.hour": "Сәгать", "sv.rating_of": "Бәя {n}/5", "sv.operator": "Оператор",
    "sv.history": "Тарих", "sv.from": "Кайчаннан", "sv.to": "Кайчанга кадәр", "sv.last_week": "Узган атна",
    "sv.last_month": "Узган ай", "sv.show": "Күрсәтергә", "sv.csv": "CSV йөкләргә",
    "sv.col.visits": "Визитлар", "sv.col.p50": "Көтү p50", "sv.col.p90": "Көтү p90",
    "sv.col.service": "Хезмәт", "sv.col.no_shows": "Килмәүләр", "sv.col.sla": "Норматив эчендә", "sv.col.rating": "Бәя",
    "sv.by_service": "Хезмәтләр буенча", "sv.by_operator": "Операторлар буенча", "sv.by_period": "Атналар һәм айлар буенча",
    "sv.period": "Чор", "sv.week": "Атна", "sv.month": "Ай",
    "sv.digital": "Санлы өлеш: онлайн һәм офистагы гаризалар", "sv.digital.online": "Онлайн",
    "sv.digital.in_office": "Офиста", "sv.digital.share": "Онлайн өлеше", "sv.digital.could": "Онлайн була ала иде",
    "sv.digital.sent": "Онлайнга җибәрелде", "sv.digital.share_goal": "Онлайн өлеше (максат {goal}%)",
    "city.title": "Шәһәр: офислар һәм хезмәтләр буенча онлайн гаризалар өлеше", "city.by_office": "Офислар буенча", "city.by_service": "Шәһәр хезмәтләре буенча",
    "city.below": "Максаттан түбән хезмәтләр", "city.offices": "Офислар", "city.summary": "Шәһәр: {share} онлайн, максат {goal}% — онлайн {online}, офисларда {in_office}",
    "sv.tl.TicketIssued": "Талон бирелде", "sv.tl.TicketCalled": "Чакырылды", "sv.tl.ServiceStarted": "Хезмәт башланды",
    "sv.tl.ServiceCompleted": "Хезмәт тәмамланды", "sv.tl.TicketTransferred": "Күчерелде", "sv.tl.SlaBreached": "Норматив арттырылды",
    "sv.tl.TicketNoShow": "Килмәде", "sv.tl.TicketCancelled": "Кире алынды",
    "sv.sla_feed": "Фаразлар һәм арттырулар", "sv.sla_none": "Әлегә юк",
    "sv.sla_predicted": "{waited} мин көтә, фараз {predicted} мин, норма {sla}", "sv.sla_breached": "{waited} мин көтә — {sla} мин нормасы арттырылды",
    "sv.open_more": "Тагын тәрәзәләр ачыгыз: {n} — «{service}»: {waiting} көтә, фараз {minutes} мин",
    "ad.account": "Хисап язмасы", "ad.first_password": "Беренче серсүз", "ad.title": "Идарә итү", "ad.office": "Офис", "ad.staff": "Хезмәткәрләр", "ad.role": "Роль",
    "ad.status": "Халәт", "ad.actions": "Гамәлләр", "ad.create": "Яңа хезмәткәр", "ad.create_button": "Булдыру",
    "ad.role.operator": "Оператор", "ad.role.supervisor": "Җитәкче", "ad.role.kiosk": "Киоск", "ad.role.reception": "Консультант", "ad.role.admin": "Администратор",
    "ad.enable": "Кабызу", "ad.disable": "Сүндерү", "ad.reset": "Серсүзне яңарту", "ad.disabled": "Сүндерелгән", "ad.active": "Актив",
    "ad.new_password": "{user} өчен яңа серсүз: {password} — аны шәхсән тапшырыгыз, ул бер тапкыр күрсәтелә",
    "ad.settings": "Офис көйләүләре", "ad.sla_wait": "Көтү нормативы, мин", "ad.sla_appointment": "Язылу буенча, мин",
    "ad.hours": "Эш сәгатьләре һәм тәнәфесләр", "ad.opens": "Ачыла", "ad.closes": "Ябыла", "ad.breaks": "Тәнәфесләр",
    "ad.cutoff": "Талоннар ябылуга кадәр бирелми башлый, мин:", "ad.windows": "тәрәзәләр",
    "ad.window_schedules": "Тәрәзәләрнең эш тәртибе һәм тәнәфесләре", "ad.window_n": "{n} тәрәзә", "ad.own_schedule": "үз тәртибе",
    "ad.own_schedule_hint": "Үз тәртибе булмаган тәрәзә офис сәгатьләрендә эшли; үз тәртибеннән тыш тәрәзәне ачып та, чакырып та булмый.",
    "ad.recipients": "Норматив һәм түбән бәяләр турында кемгә язарга (юлга бер адрес)",
    "ad.audit": "Үзгәрешләр журналы", "ad.action": "Гамәл", "ad.actor": "Кем", "ad.target": "Нәрсә", "ad.any": "Теләсә нинди",
    "ad.when": "Кайчан", "ad.before": "Иде", "ad.after": "Булды", "ad.only_admins": "Бу экран администраторлар өчен",
    "ad.day.mon": "Дш", "ad.day.tue": "Сш", "ad.day.wed": "Чш", "ad.day.thu": "Пн", "ad.day.fri": "Җм", "ad.day.sat": "Шб", "ad.day.sun": "Якш",
    "nearby.title": "Янәшәдә тизрәк", "nearby.km": "{km} км", "nearby.line": "{office}, {distance}: ≈ {minutes} мин көтү",
    "nearby.saves": "юлы белән {n} мин тизрәк", "nearby.take": "Анда талон алырга (монысы юкка чыгарыла)",
    "sv.acknowledged": "Кабул ителде", "sv.note": "Нәрсә эшләнде — сигналны ябу өчен",
  },
  en: {
    "lang.name": "English", "lang.short": "Eng",
    "app.name": "OneWindow",
    "common.back": "Back", "common.cancel": "Cancel", "common.close": "Close", "common.continue": "Continue",
    "common.min": "{n} min", "common.about_min": "≈ {n} min", "common.loading": "Loading…",
    "common.retry": "Try again", "common.yes": "Yes", "common.no": "No", "common.save": "Save",
    "common.office": "Office", "common.service": "Service", "common.window": "Window", "common.zone": "Zone",
    "common.today": "Today", "common.language": "Language", "common.signout": "Sign out", "common.print": "Print",
    "common.none": "None", "common.required": "Please fill in this field",
    "net.lost": "Connection to the server lost. Reconnecting…", "net.back": "Connection restored",
    "net.offline": "no connection to the server", "net.busy": "Already in progress",
    "signin.title": "Staff sign-in", "signin.username": "Username", "signin.password": "Password",
    "signin.submit": "Sign in", "signin.as": "{user} · {office}",
    "state.waiting": "Waiting", "state.called": "Called", "state.serving": "Being served",
    "state.completed": "Served", "state.done": "Served", "state.no_show": "No-show", "state.cancelled": "Cancelled",
    "state.transferred": "Transferred",
    "cat.administrative": "Administrative", "cat.municipal": "Municipal", "cat.social": "Social",
    "cat.administrative.hint": "Passports, registration, certificates", "cat.municipal.hint": "Housing, land, permits",
    "cat.social.hint": "Benefits, allowances, payments",
    "outcome.served": "Service provided", "outcome.documents_missing": "Documents missing",
    "outcome.sent_online": "Sent to the online service", "outcome.refused": "Refused",
    "prio.none": "No, regular queue",

    "home.title": "OneWindow screens",
    "kiosk.title": "Electronic queue", "kiosk.welcome": "Welcome! Choose a service",
    "kiosk.search": "Find a service", "kiosk.search.placeholder": "For example: certificate, passport, allowance",
    "kiosk.search.go": "Search", "kiosk.search.none": "Nothing found. Try other words or pick a section.",
    "kiosk.appointment": "I have an appointment", "kiosk.appointment.hint": "Check in with your booking code",
    "kiosk.services": "Choose a service", "kiosk.minutes": "Takes ≈ {n} min", "kiosk.online_badge": "Online too",
    "kiosk.checklist.title": "Do you have these documents?",
    "kiosk.checklist.original": "original", "kiosk.checklist.copies": "copies: {n}",
    "kiosk.checklist.empty": "No documents needed.",
    "kiosk.checklist.yes": "Yes, I have them all", "kiosk.checklist.missing": "Something is missing",
    "kiosk.checklist.missing_hint": "Without these documents the service may be refused. You can still take a ticket for advice, or come back later.",
    "kiosk.online.title": "You can do this from home",
    "kiosk.online.text": "Point your phone camera at the code to open the service on the public services portal. No queue needed.",
    "kiosk.online.continue": "Take a ticket anyway",
    "kiosk.priority.title": "Are you entitled to priority service?",
    "kiosk.phone.title": "Get an SMS when it is your turn?",
    "kiosk.phone.label": "Phone number (optional)", "kiosk.phone.placeholder": "+7 9XX XXX-XX-XX",
    "kiosk.phone.hint": "Used only for notifications and deleted after your visit.",
    "kiosk.take": "Take a ticket", "kiosk.skip": "No SMS",
    "kiosk.ticket.title": "Your ticket", "kiosk.ticket.number": "Ticket number",
    "kiosk.ticket.position": "Ahead of you: {n}", "kiosk.ticket.estimate": "Wait ≈ {n} min",
    "kiosk.ticket.qr": "Follow the queue on your phone", "kiosk.ticket.done": "Done",
    "kiosk.ticket.watch": "Watch the board for your call",
    "kiosk.checkin.title": "Appointment check-in", "kiosk.checkin.code": "Booking code",
    "kiosk.checkin.placeholder": "For example: K7M3PX", "kiosk.checkin.submit": "Check in",
    "kiosk.setup.title": "Kiosk setup", "kiosk.setup.text": "This kiosk is not set up: sign in with a kiosk account.",
    "kiosk.closed": "The office is closed now",

    "board.title": "Board", "board.calls": "Now calling", "board.waiting": "Waiting", "board.ticket": "Ticket",
    "board.to_window": "Window", "board.no_calls": "No calls yet", "board.people": "{n} people",
    "board.wait": "≈ {n} min", "board.say": "Ticket {number}, window {window}",
    "board.sound_on": "Turn sound on", "board.sound_is_on": "Sound is on",
    "board.live": "Live", "board.reconnecting": "Reconnecting…",

    "op.title": "Operator console", "op.open.title": "Open a window", "op.open.window": "Window number",
    "op.open.services": "Services at this window", "op.open.submit": "Open the window",
    "op.window": "Window {n}", "op.status.open": "Open", "op.status.paused": "On a break", "op.status.closed": "Closed",
    "op.current": "Current ticket", "op.idle": "Nobody at your window. Call the next one.",
    "op.call_next": "Call next", "op.recall": "Recall", "op.no_show": "No-show",
    "op.start": "Start service", "op.complete": "Complete", "op.outcome": "Outcome",
    "op.transfer": "Transfer", "op.transfer.to": "To service", "op.pause": "Pause", "op.resume": "Resume",
    "op.close": "Close the window", "op.checklist": "Documents for this service", "op.counts": "Today",
    "op.count.served": "Served", "op.count.no_show": "No-shows", "op.count.waiting": "Waiting",
    "op.count.transferred": "Transferred",
    "op.waited": "Waited {n} min", "op.empty": "Nobody waiting", "op.calls": "Calls: {n}",

    "t.title": "My ticket", "t.position": "Place in the queue", "t.ahead": "Ahead of you: {n}",
    "t.estimate": "Wait", "t.state": "State", "t.go": "Go to window {n}",
    "t.go.zone": "{zone}", "t.cancel": "Cancel my ticket", "t.cancel.confirm": "Cancel the ticket? This cannot be undone.",
    "t.cancelled": "Your ticket is cancelled.", "t.done": "Your visit is over. Thank you!", "t.no_show": "You did not come when called.",
    "t.feedback": "Rate the service", "t.serving": "You are being served at window {n}", "t.updated": "Updated {time}",

    "book.title": "Book an appointment", "book.office": "Office", "book.service": "Service", "book.day": "Day",
    "book.slots": "Free times", "book.no_slots": "No free times on this day. Pick another day.",
    "book.phone": "Phone for reminders (optional)", "book.submit": "Book",
    "book.done.title": "You are booked", "book.code": "Code to check in at the kiosk", "book.manage": "Link to manage your booking",
    "book.when": "When", "book.pick_slot": "Pick a time",
    "book.manage.title": "My appointment", "book.manage.cancel": "Cancel the appointment", "book.manage.move": "Move",
    "book.manage.cancelled": "Your appointment is cancelled.", "book.manage.moved": "Your appointment is moved.",
    "book.manage.confirm": "Cancel the appointment?", "book.state": "State",
    "appt.booked": "Booked", "appt.cancelled": "Cancelled", "appt.checked_in": "Checked in", "appt.missed": "Missed",
    "appt.fulfilled": "Done", "appt.rescheduled": "Moved",

    "fb.title": "Rate the service", "fb.rating": "Your rating", "fb.tags": "What mattered most?",
    "fb.comment": "Comment (optional)", "fb.submit": "Send",
    "fb.thanks": "Thank you for your rating!", "fb.thanks.text": "Your feedback helps us serve people better.",
    "fb.star": "{n} of 5", "fb.pick": "Pick a rating from 1 to 5",
    "tag.waiting_time": "Waiting time", "tag.politeness": "Politeness", "tag.competence": "Competence",
    "tag.comfort": "Comfort", "tag.documents_unclear": "Unclear about documents", "tag.online_would_do": "Would do it online",
    "tag.speed": "Speed", "tag.information": "Information",

    "sv.title": "Supervisor dashboard", "sv.live": "Queue now", "sv.waiting": "Waiting", "sv.longest": "Longest wait",
    "sv.estimate": "Estimate", "sv.windows": "Open windows", "sv.forecast": "SLA forecast",
    "sv.kpis": "Today's figures", "sv.alerts": "Low ratings", "sv.ack": "Acknowledge", "sv.resolve": "Resolve",
    "sv.chart": "The day so far", "sv.no_alerts": "No open alerts", "sv.no_windows": "No open windows",
    "sv.kpi.visits": "Visits", "sv.kpi.served": "Served", "sv.kpi.avg_wait": "Average wait",
    "sv.kpi.avg_service": "Average service", "sv.kpi.no_shows": "No-shows", "sv.kpi.sla": "Within the wait target",
    "sv.kpi.rating": "Average rating", "sv.kpi.ratings": "Ratings", "sv.kpi.online": "Could have been online",
    "sv.sla.ok": "The {sla} min wait target holds", "sv.sla.risk": "The {sla} min wait target is at risk",
    "sv.sla.breach": "The {sla} min wait target is breached", "sv.light.green": "under 10 min", "sv.light.yellow": "11–20 min",
    "sv.light.orange": "21–30 min", "sv.light.red": "over 30 min", "sv.chart.issued": "Tickets issued",
    "sv.chart.served": "Served", "sv.hour": "Hour", "sv.rating_of": "Rating {n}/5", "sv.operator": "Operator",
    "sv.history": "History", "sv.from": "From", "sv.to": "To", "sv.last_week": "Last week",
    "sv.last_month": "Last month", "sv.show": "Show", "sv.csv": "Download CSV",
    "sv.col.visits": "Visits", "sv.col.p50": "Wait p50", "sv.col.p90": "Wait p90",
    "sv.col.service": "Service time", "sv.col.no_shows": "No-shows", "sv.col.sla": "Within target", "sv.col.rating": "Rating",
    "sv.by_service": "Per service", "sv.by_operator": "Per operator", "sv.by_period": "Per week and month",
    "sv.period": "Period", "sv.week": "Week", "sv.month": "Month",
    "sv.digital": "Digital share: applications online and in the office", "sv.digital.online": "Online",
    "sv.digital.in_office": "In the office", "sv.digital.share": "Online share", "sv.digital.could": "Could have been online",
    "sv.digital.sent": "Sent online", "sv.digital.share_goal": "Online share (goal {goal}%)",
    "city.title": "City: share of applications filed online, per office and service", "city.by_office": "Per office", "city.by_service": "Per service, city-wide",
    "city.below": "Services below goal", "city.offices": "Offices", "city.summary": "City: {share} online against a goal of {goal}% — {online} online, {in_office} in the offices",
    "sv.tl.TicketIssued": "Ticket issued", "sv.tl.TicketCalled": "Called", "sv.tl.ServiceStarted": "Service started",
    "sv.tl.ServiceCompleted": "Service completed", "sv.tl.TicketTransferred": "Transferred", "sv.tl.SlaBreached": "Wait target breached",
    "sv.tl.TicketNoShow": "Did not come", "sv.tl.TicketCancelled": "Cancelled",
    "sv.sla_feed": "Forecasts and breaches", "sv.sla_none": "None yet",
    "sv.sla_predicted": "waiting {waited} min, forecast {predicted} min against {sla}", "sv.sla_breached": "waiting {waited} min: the {sla} min target is breached",
    "sv.open_more": "Open {n} more window(s) for {service}: {waiting} waiting, about {minutes} min",
    "ad.account": "Account name", "ad.first_password": "First password", "ad.title": "Administration", "ad.office": "Office", "ad.staff": "Staff", "ad.role": "Role",
    "ad.status": "Status", "ad.actions": "Actions", "ad.create": "New staff member", "ad.create_button": "Create",
    "ad.role.operator": "Operator", "ad.role.supervisor": "Supervisor", "ad.role.kiosk": "Kiosk", "ad.role.reception": "Reception", "ad.role.admin": "Administrator",
    "ad.enable": "Enable", "ad.disable": "Disable", "ad.reset": "Reset password", "ad.disabled": "Disabled", "ad.active": "Active",
    "ad.new_password": "New password for {user}: {password} (hand it over in person; it is shown once)",
    "ad.settings": "Office settings", "ad.sla_wait": "Wait target, min", "ad.sla_appointment": "With an appointment, min",
    "ad.hours": "Opening hours and breaks", "ad.opens": "Opens", "ad.closes": "Closes", "ad.breaks": "Breaks",
    "ad.cutoff": "Tickets stop this many minutes before closing:", "ad.windows": "windows",
    "ad.window_schedules": "Window schedules and breaks", "ad.window_n": "Window {n}", "ad.own_schedule": "own schedule",
    "ad.own_schedule_hint": "A window without its own schedule works the office's hours; outside its schedule a window cannot be opened or call anyone.",
    "ad.recipients": "Who gets wait-target and low-rating alerts (one address a line)",
    "ad.audit": "Audit log", "ad.action": "Action", "ad.actor": "Who", "ad.target": "What", "ad.any": "Any",
    "ad.when": "When", "ad.before": "Before", "ad.after": "After", "ad.only_admins": "This screen is for administrators",
    "ad.day.mon": "Mon", "ad.day.tue": "Tue", "ad.day.wed": "Wed", "ad.day.thu": "Thu", "ad.day.fri": "Fri", "ad.day.sat": "Sat", "ad.day.sun": "Sun",
    "nearby.title": "Faster nearby", "nearby.km": "{km} km", "nearby.line": "{office}, {distance}: ~{minutes} min wait",
    "nearby.saves": "{n} min sooner, travel included", "nearby.take": "Take a ticket there (this one is cancelled)",
    "sv.acknowledged": "Acknowledged", "sv.note": "What was done, to resolve it",
  },
};

export const LANGUAGES = ["ru", "tt", "en"];
for (const code of LANGUAGES) Object.assign(TEXTS[code], COUNTER_TEXTS[code]);
let current = "ru";
let screenName = "web";
const listeners = [];

export function lang() {
  return current;
}

/** The text for `key` in the current language (Russian, then the key itself, as fallbacks). */
export function t(key, vars = {}) {
  const text = TEXTS[current][key] ?? TEXTS.ru[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Whether `key` has a text (in the current language or Russian). */
export function has(key) {
  return key in TEXTS[current] || key in TEXTS.ru;
}

/** A LocalizedText from the API ({ru, tt, en}) or a plain string, in the current language. */
export function pick(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[current] || text.ru || "";
}

/** Fills [data-i18n] text and [data-i18n-attr="attr:key;attr:key"] attributes under `root`. */
export function apply(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

export function setLang(next, { remember = true } = {}) {
  if (!LANGUAGES.includes(next)) return;
  current = next;
  document.documentElement.lang = next;
  if (remember) localStorage.setItem(`ow.lang.${screenName}`, next);
  apply();
  for (const el of document.querySelectorAll("[data-lang]")) {
    el.setAttribute("aria-pressed", String(el.dataset.lang === next));
  }
  for (const listener of listeners) listener(next);
}

export function onLangChange(listener) {
  listeners.push(listener);
}

/**
 * Chooses the screen's language (?lang=, then what this screen used last, then `fallback`) and
 * renders the switch into every [data-lang-switch] element. Each screen keeps its own choice.
 */
export function initI18n(screen, fallback = "ru") {
  screenName = screen;
  const asked = new URLSearchParams(location.search).get("lang");
  const remembered = localStorage.getItem(`ow.lang.${screen}`);
  for (const holder of document.querySelectorAll("[data-lang-switch]")) {
    holder.setAttribute("role", "group");
    holder.setAttribute("aria-label", "Язык / Тел / Language");
    holder.replaceChildren(
      ...LANGUAGES.map((code) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "lang-button";
        button.dataset.lang = code;
        button.lang = code;
        button.textContent = TEXTS[code]["lang.short"];
        button.title = TEXTS[code]["lang.name"];
        button.addEventListener("click", () => setLang(code));
        return button;
      }),
    );
  }
  setLang(LANGUAGES.includes(asked) ? asked : LANGUAGES.includes(remembered) ? remembered : fallback, {
    remember: Boolean(asked),
  });
}
