package calendar

import (
	"fmt"
	"strings"
)

// messages are the area's messages in the caller's language (Accept-Language: ar → Arabic).
type messages struct{ ar bool }

func msg(lang string) messages {
	return messages{ar: strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "ar")}
}

func (m messages) pick(en, ar string) string {
	if m.ar {
		return ar
	}
	return en
}

func (m messages) invalid() string {
	return m.pick("some fields are invalid", "بعض الحقول غير صالحة")
}
func (m messages) oneOf(a, b string) string {
	return m.pick(fmt.Sprintf("must be %s or %s", a, b), fmt.Sprintf("يجب أن تكون %s أو %s", a, b))
}
func (m messages) between(lo, hi int) string {
	return m.pick(fmt.Sprintf("must be %d to %d characters", lo, hi), fmt.Sprintf("يجب أن يكون من %d إلى %d حرفًا", lo, hi))
}
func (m messages) atMost(n int) string {
	return m.pick(fmt.Sprintf("must be at most %d characters", n), fmt.Sprintf("يجب ألا يزيد على %d حرف", n))
}
func (m messages) timeZone() string {
	return m.pick("must be an IANA time zone such as Asia/Riyadh", "يجب أن تكون منطقة زمنية مثل Asia/Riyadh")
}
func (m messages) time() string {
	return m.pick("must be an RFC 3339 time or a local time such as 2026-12-10T18:00",
		"يجب أن يكون وقتًا بصيغة RFC 3339 أو وقتًا محليًا مثل 2026-12-10T18:00")
}
func (m messages) endAfterStart() string {
	return m.pick("must be after the start", "يجب أن يكون بعد وقت البدء")
}
func (m messages) tooLong() string {
	return m.pick("an event lasts at most 31 days", "لا تتجاوز مدة الفعالية 31 يومًا")
}
func (m messages) future() string {
	return m.pick("must be in the future", "يجب أن يكون في المستقبل")
}
func (m messages) url() string {
	return m.pick("must be an http or https address", "يجب أن يكون عنوان http أو https")
}
func (m messages) place() string {
	return m.pick("give a place or an online link", "أدخل مكانًا أو رابطًا للحضور عبر الإنترنت")
}
func (m messages) capacity() string {
	return m.pick(fmt.Sprintf("must be between 1 and %d", maxCapacity), fmt.Sprintf("يجب أن تكون بين 1 و%d", maxCapacity))
}
func (m messages) belowAttendees(n int) string {
	return m.pick(fmt.Sprintf("cannot be below the %d people attending", n), fmt.Sprintf("لا يمكن أن تقل عن عدد الحضور الحالي (%d)", n))
}
func (m messages) full() string {
	return m.pick("the event is full", "الفعالية مكتملة العدد")
}
func (m messages) over() string {
	return m.pick("the event is over", "انتهت الفعالية")
}
