package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/usecase"
)

func TestNeutralize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+966 55", "'+966 55"},
		{"-5%", "'-5%"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=cmd", "'\t=cmd"},
		{"\r=cmd", "'\r=cmd"},
		{"Solar", "Solar"},
		{"", ""},
		{"نظام =1", "نظام =1"},
	} {
		assert.Equal(t, tc.want, Neutralize(tc.in), "%q", tc.in)
	}
}

func TestIsArabic(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"نظام فحص الجودة", true},
		{"AI نظام فحص الجودة", true},
		{"AI Quality Inspection نظام", false},
		{"2024", false},
	} {
		assert.Equal(t, tc.want, IsArabic(tc.in), tc.in)
	}
}

// TestCSV: a byte order mark, quoting by encoding/csv, and the guard on every cell.
func TestCSV(t *testing.T) {
	s := newSheet(true, "Use cases", useCaseHeader)
	require.NoError(t, s.row(useCaseRow(usecase.Summary{ID: "1", Title: "=HYPERLINK(\"x\")", Company: "شركة, \"المتقدمة\"", Tags: []string{"AI", "IoT"}})))
	b, err := s.bytes()
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(b, []byte("\uFEFF")))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, len(useCaseHeader), len(recs[1]))
	assert.Equal(t, `'=HYPERLINK("x")`, recs[1][1])
	assert.Equal(t, `شركة, "المتقدمة"`, recs[1][3])
	assert.Equal(t, "AI, IoT", recs[1][10])
	assert.Equal(t, ".csv", s.ext())
}

// TestDetailPageEscapes: what authors write is text, never markup, in either direction.
func TestDetailPageEscapes(t *testing.T) {
	for _, tc := range []struct {
		title, dir string
	}{
		{"<script>alert(1)</script> Plant", `dir="ltr"`},
		{"مصنع الجودة الشاملة في الرياض <img src=x onerror=alert(1)>", `dir="rtl"`},
	} {
		html, err := DetailPage(usecase.UseCase{Content: usecase.Content{Title: tc.title, Description: "<b>x</b>"}})
		require.NoError(t, err)
		assert.Contains(t, html, tc.dir)
		assert.NotContains(t, html, "<script>alert")
		assert.NotContains(t, html, "<img src=x")
		assert.NotContains(t, html, "<b>x</b>")
	}
}
