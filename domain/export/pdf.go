package export

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"unicode"

	"github.com/p2psandbox/hub/domain/usecase"
)

//go:embed templates/usecase.html
var templates embed.FS

var detailPage = template.Must(template.ParseFS(templates, "templates/usecase.html"))

// labels are the page's headings in one language.
type labels struct {
	Verified, PublishedBy, ROI, Timeframe, Budget, Summary, Challenge, FinancialLoss, OperationalImpact,
	CustomerImpact, ComplianceRisk, Solution, Vendor, Component, Details, Implementation, Challenges, Outcome,
	Results, Metric, Baseline, Current, Improvement, Investment, Savings, Payback, ThreeYear, Lessons,
	Recommendation, Contact string
}

var english = labels{"Verified", "Published by", "Return on investment", "Implementation time", "Total budget",
	"Executive summary", "Business challenge", "Financial loss", "Operational impact", "Customer impact",
	"Compliance risk", "Solution", "Selected vendor", "Component", "Details", "Implementation",
	"Challenges and solutions", "Outcome", "Results", "Metric", "Baseline", "Current", "Improvement",
	"Total investment", "Annual savings", "Payback period", "Three-year ROI", "Lessons learned",
	"Recommendation", "Contact"}

var arabic = labels{"موثّقة", "نشرها", "العائد على الاستثمار", "مدة التنفيذ", "الميزانية الإجمالية",
	"الملخص التنفيذي", "تحدي الأعمال", "الخسارة المالية", "الأثر التشغيلي", "الأثر على العملاء",
	"مخاطر الامتثال", "الحل", "المورّد المختار", "المكوّن", "التفاصيل", "التنفيذ",
	"التحديات والحلول", "النتيجة", "النتائج", "المقياس", "خط الأساس", "الحالي", "التحسّن",
	"إجمالي الاستثمار", "الوفورات السنوية", "فترة الاسترداد", "العائد على ثلاث سنوات", "الدروس المستفادة",
	"التوصية", "جهة الاتصال"}

// DetailPage renders u as its detail page, in Arabic and right to left when its title is
// Arabic. The template escapes everything the author wrote; images are data or https URLs the
// caller vouches for.
func DetailPage(u usecase.UseCase, images ...string) (string, error) {
	data := struct {
		U                usecase.UseCase
		L                labels
		Lang, Dir        string
		Place, Published string
		Images           []template.URL
	}{U: u, L: english, Lang: "en", Dir: "ltr"}
	if IsArabic(u.Title) {
		data.L, data.Lang, data.Dir = arabic, "ar", "rtl"
	}
	data.Place = u.Location.City
	if u.Location.Region != "" && u.Location.Region != u.Location.City {
		if data.Place != "" {
			data.Place += ", "
		}
		data.Place += u.Location.Region
	}
	if u.PublishedAt != nil {
		data.Published = u.PublishedAt.UTC().Format("2006-01-02")
	}
	for _, img := range images {
		data.Images = append(data.Images, template.URL(img)) //nolint:gosec // the caller's own URLs
	}
	var b bytes.Buffer
	if err := detailPage.Execute(&b, data); err != nil {
		return "", fmt.Errorf("rendering the detail page: %w", err)
	}
	return b.String(), nil
}

// IsArabic reports whether most letters of s are Arabic.
func IsArabic(s string) bool {
	ar, other := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Arabic, r):
			ar++
		case unicode.IsLetter(r):
			other++
		}
	}
	return ar > other
}
