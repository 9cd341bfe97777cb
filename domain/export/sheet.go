package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/usecase"
)

// sheet writes rows as CSV or as an Excel workbook through excelize's streaming writer, which
// keeps a 10,000-row list out of the in-memory cell model.
type sheet struct {
	csv    bool
	buf    bytes.Buffer
	cw     *csv.Writer
	file   *excelize.File
	stream *excelize.StreamWriter
	next   int
	err    error
}

func newSheet(asCSV bool, name string, header []any) *sheet {
	s := &sheet{csv: asCSV, next: 1}
	if asCSV {
		// The byte order mark makes Excel read the file as UTF-8 (Arabic intact).
		s.buf.WriteString("\uFEFF")
		s.cw = csv.NewWriter(&s.buf)
	} else {
		s.file = excelize.NewFile()
		if err := s.file.SetSheetName("Sheet1", name); err != nil {
			s.err = err
			return s
		}
		s.stream, s.err = s.file.NewStreamWriter(name)
		if s.err == nil {
			s.err = s.stream.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
		}
	}
	if s.err == nil {
		s.err = s.row(header)
	}
	return s
}

// row writes one row of text and numbers.
func (s *sheet) row(cells []any) error {
	if s.err != nil {
		return s.err
	}
	if s.csv {
		rec := make([]string, len(cells))
		for i, c := range cells {
			rec[i] = Neutralize(fmt.Sprint(c))
		}
		s.err = s.cw.Write(rec)
		return s.err
	}
	cell, err := excelize.CoordinatesToCellName(1, s.next)
	if err != nil {
		s.err = err
		return err
	}
	s.next++
	// The stream writer stores strings as text, never as formulas, so a cell starting with "="
	// is inert in Excel; CSV has no such types and is neutralized instead.
	s.err = s.stream.SetRow(cell, cells)
	return s.err
}

func (s *sheet) bytes() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.csv {
		s.cw.Flush()
		return s.buf.Bytes(), s.cw.Error()
	}
	defer s.file.Close()
	if err := s.stream.Flush(); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := s.file.Write(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func (s *sheet) ext() string {
	if s.csv {
		return ".csv"
	}
	return ".xlsx"
}

func (s *sheet) contentType() string {
	if s.csv {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// Neutralize keeps a spreadsheet from running a cell as a formula (CSV injection): a value
// starting with = + - @ (or a tab or carriage return, which some readers strip first) gets a
// leading apostrophe, as OWASP advises.
func Neutralize(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// The use cases' columns.
var useCaseHeader = strs("ID", "Title", "Subtitle", "Company", "Factory", "Category", "Industry", "City",
	"ROI", "Timeframe", "Tags", "Views", "Likes", "Saves", "Verified", "Featured", "Published by", "Published at")

func useCaseRow(s usecase.Summary) []any {
	return []any{s.ID, s.Title, s.Subtitle, s.Company, s.FactoryName, s.Category, s.Industry, s.City,
		s.RoiPercentage, s.Timeframe, strings.Join(s.Tags, ", "), s.Views, s.Likes, s.Saves, yes(s.Verified),
		yes(s.Featured), s.PublishedBy, stamp(s.PublishedAt)}
}

// The members' columns.
var memberHeader = strs("ID", "First name", "Last name", "Email", "Role", "Job title", "City", "Active",
	"Email verified", "Last login", "Joined")

func memberRow(u identity.User) []any {
	return []any{u.ID, u.FirstName, u.LastName, u.Email, u.Role, u.JobTitle, u.City, yes(u.IsActive),
		yes(u.EmailVerified), stamp(u.LastLogin), stamp(&u.CreatedAt)}
}

func strs(v ...string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
