package exportapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/app/exportapp"
	"github.com/p2psandbox/hub/domain/export"
	"github.com/p2psandbox/hub/domain/usecase"
)

// arabicUseCase is the complete use case with an Arabic title and subtitle.
func arabicUseCase(t testing.TB) usecase.UseCase {
	t.Helper()
	raw, err := os.ReadFile("../../domain/usecase/testdata/complete.json")
	require.NoError(t, err)
	var u usecase.UseCase
	require.NoError(t, json.Unmarshal(raw, &u.Content))
	u.Title = "نظام فحص الجودة بالذكاء الاصطناعي"
	u.Subtitle = "تحويل تصنيع اللوحات الإلكترونية بالرؤية الحاسوبية"
	u.Company = "شركة الإلكترونيات المتقدمة"
	u.Location.City, u.Location.Region = "الرياض", "منطقة الرياض"
	u.Status = usecase.StatusPublished
	return u
}

// TestPDFShapesArabic prints the detail page of an Arabic use case with the real browser and
// reads it back with poppler: the title comes out as text (so it was laid out as Arabic glyphs
// with their Unicode mapping, not boxes) and the first page renders to a non-blank image.
func TestPDFShapesArabic(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s comes with poppler-utils (scripts/services.sh installs it)", tool)
	}
	chrome := exportapp.NewChrome(os.Getenv("P2P_EXPORT_CHROMIUM"), 30*time.Second)
	t.Cleanup(chrome.Close)

	tests := []struct {
		name string
		u    usecase.UseCase
		want []string
	}{
		{"arabic", arabicUseCase(t), []string{"نظام فحص الجودة بالذكاء الاصطناعي", "الرياض", "النتائج"}},
		{"english", func() usecase.UseCase {
			u := arabicUseCase(t)
			u.Title, u.Subtitle = "AI Quality Inspection System", "PCB"
			return u
		}(),
			[]string{"AI Quality Inspection System", "Results", "Defect"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			html, err := export.DetailPage(tc.u)
			require.NoError(t, err)
			pdf, err := chrome.PrintPDF(context.Background(), html)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
			dir := t.TempDir()
			file := filepath.Join(dir, "u.pdf")
			require.NoError(t, os.WriteFile(file, pdf, 0o600))
			out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
			require.NoError(t, err)
			text := extracted(string(out))
			for _, w := range tc.want {
				assert.Contains(t, text, lamAlef.Replace(w))
			}
			require.NoError(t, exec.Command("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", file, filepath.Join(dir, "page")).Run())
			pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
			require.Len(t, pages, 1)
			assertNotBlank(t, pages[0])
			if keep := os.Getenv("P2P_KEEP_PNG"); keep != "" {
				raw, _ := os.ReadFile(pages[0])
				_ = os.WriteFile(filepath.Join(keep, tc.name+".png"), raw, 0o600)
			}
		})
	}
}

// lamAlef is how poppler gives back the lam-alef ligatures that shaping made: the ligature's
// glyph maps to its two letters in visual (reversed) order. The ligature being there at all
// shows the text was shaped; the rest of each word comes back in logical order.
var lamAlef = strings.NewReplacer("لا", "ال", "لأ", "أل", "لإ", "إل", "لآ", "آل")

// extracted is pdftotext's output without the bidi embedding marks it adds, its spaces folded.
func extracted(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= '\u202a' && r <= '\u202e' {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// assertNotBlank checks that a good share of the page is not white.
func assertNotBlank(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	b, inked, all := img.Bounds(), 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			all++
			if r < 0xE000 || g < 0xE000 || bl < 0xE000 {
				inked++
			}
		}
	}
	assert.Greater(t, inked*100/all, 1, "the page is blank")
}
