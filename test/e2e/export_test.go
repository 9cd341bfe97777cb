package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// publishUseCase has author write a complete use case changed by over, submit it and mod
// publish it; it returns the id.
func publishUseCase(t *testing.T, author, mod seed.Account, over map[string]any) string {
	t.Helper()
	id := draftUseCase(t, author, over)
	res := author.Do(http.MethodPost, "/api/v1/use-cases/"+id+"/submit", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+id+"/decision", map[string]any{"action": "publish"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	return id
}

func draftUseCase(t *testing.T, author seed.Account, over map[string]any) string {
	t.Helper()
	body := completeUseCase(t)
	for k, v := range over {
		body[k] = v
	}
	res := author.Do(http.MethodPost, "/api/v1/use-cases", body)
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	return res.JSON()["id"].(string)
}

// exportReady asks for an export and waits until it is ready; it returns the last status.
func exportReady(t *testing.T, a seed.Account, req map[string]any) map[string]any {
	t.Helper()
	res := a.Do(http.MethodPost, "/api/v1/exports", req)
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	id := res.JSON()["id"].(string)
	assert.Equal(t, "/api/v1/exports/"+id, res.Header.Get("Location"))
	assert.Contains(t, []any{"queued", "running", "ready"}, res.JSON()["status"])
	var last map[string]any
	require.Eventually(t, func() bool {
		last = a.Do(http.MethodGet, "/api/v1/exports/"+id, nil).JSON()
		return last["status"] == "ready" || last["status"] == "failed"
	}, 60*time.Second, 100*time.Millisecond)
	require.Equal(t, "ready", last["status"], "%v", last)
	assert.EqualValues(t, 100, last["percent"])
	return last
}

// download fetches a ready export's file through its link: the hub counts the download and
// answers 303 with a presigned GET, which serves the file as an attachment without a session.
// at maps the Location to where the storage answers (the hub itself for the disk backend).
func download(t *testing.T, a seed.Account, status map[string]any, at func(string) string) []byte {
	t.Helper()
	link, _ := status["downloadUrl"].(string)
	require.NotEmpty(t, link)
	res := a.NoRedirects().Do(http.MethodGet, link, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.String())
	loc := res.Header.Get("Location")
	require.NotEmpty(t, loc)
	got, err := http.Get(at(loc))
	require.NoError(t, err)
	defer got.Body.Close()
	body, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode, "%s", body)
	assert.Equal(t, status["contentType"], got.Header.Get("Content-Type"))
	assert.Contains(t, got.Header.Get("Content-Disposition"), "attachment")
	return body
}

// TestExports: a published use case (Arabic) as PDF, read back by poppler, downloaded twice
// (counted twice); a draft only by its author; the library as Excel and CSV with exactly the
// filter's rows (and the CSV's formula guard); members for admins only; someone else's export
// and file are 404; hostile bodies 4xx; the per-user limit 429 with Retry-After.
func TestExports(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm", "pdfimages"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s comes with poppler-utils (scripts/services.sh installs it)", tool)
	}
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("ex-mod")
	var srv *harness.Server
	onHub := func(loc string) string { return onServer(t, srv, loc) }
	const perHour = 12
	srv = env.Start(t, "P2P_AUTH_MODERATORS="+modEmail, "P2P_EXPORT_PER_HOUR=12")
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr := seed.Verified(t, env, srv, "ex-amal"), seed.Verified(t, env, srv, "ex-badr")
	member := seed.Invite(t, env, srv, amal, "ex-mia", "member")

	const arTitle = "نظام فحص الجودة بالرؤية الحاسوبية"
	arID := publishUseCase(t, amal, mod, map[string]any{"title": arTitle, "subtitle": "تحويل تصنيع اللوحات الإلكترونية",
		"imageIds": []string{readyImage(t, srv, amal, "line.jpg")}})
	energy := []string{
		publishUseCase(t, amal, mod, map[string]any{"title": "Solar rooftop in Jubail", "category": "Energy Efficiency"}),
		publishUseCase(t, amal, mod, map[string]any{"title": "=HYPERLINK(\"http://x\") compressor heat recovery", "category": "Energy Efficiency"}),
	}
	draftID := draftUseCase(t, amal, map[string]any{"title": "Unpublished draft"})

	// The Arabic use case as a PDF, by someone of another organization.
	st := exportReady(t, badr, map[string]any{"kind": "use-case-pdf", "useCaseId": arID})
	assert.Equal(t, "application/pdf", st["contentType"])
	assert.EqualValues(t, 1, st["rows"])
	require.NotEmpty(t, st["expiresAt"])
	pdf := download(t, badr, st, onHub)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	dir := t.TempDir()
	file := filepath.Join(dir, "u.pdf")
	require.NoError(t, os.WriteFile(file, pdf, 0o600))
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	require.NoError(t, err)
	assert.Contains(t, strings.Map(func(r rune) rune {
		if r >= '\u202a' && r <= '\u202e' {
			return -1
		}
		return r
	}, string(out)), arTitle, "the Arabic title comes back as text")
	require.NoError(t, exec.Command("pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", file, filepath.Join(dir, "p")).Run())
	pages, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	require.Len(t, pages, 1)
	info, err := os.Stat(pages[0])
	require.NoError(t, err)
	assert.Greater(t, info.Size(), int64(10_000), "a rendered page, not a blank one")
	list, err := exec.Command("pdfimages", "-list", file).Output()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(strings.Split(strings.TrimSpace(string(list)), "\n")), 3, "the use case's image is in the PDF:\n%s", list)
	download(t, badr, st, onHub)
	var downloads int
	require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT download_count FROM use_cases WHERE id = $1`, arID).Scan(&downloads))
	assert.Equal(t, 2, downloads, "each download counts")

	// Someone else's export, or its file, is not there; nor is a link without its token.
	exportPath := "/api/v1/exports/" + st["id"].(string)
	assert.Equal(t, http.StatusNotFound, amal.Do(http.MethodGet, exportPath, nil).Status)
	assert.Equal(t, http.StatusNotFound, amal.Do(http.MethodGet, st["downloadUrl"].(string), nil).Status)
	assert.Equal(t, http.StatusForbidden, badr.Do(http.MethodGet, exportPath+"/file", nil).Status)
	assert.Equal(t, http.StatusForbidden, badr.Do(http.MethodGet, exportPath+"/file?token=forged", nil).Status)
	assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodGet, "/api/v1/exports/"+uuid.NewString(), nil).Status)
	assert.Equal(t, http.StatusNotFound, badr.Do(http.MethodGet, "/api/v1/exports/nope", nil).Status)

	// A draft: its author only.
	exportReady(t, amal, map[string]any{"kind": "use-case-pdf", "useCaseId": draftID})
	for _, who := range []seed.Account{badr, member} {
		res := who.Do(http.MethodPost, "/api/v1/exports", map[string]any{"kind": "use-case-pdf", "useCaseId": draftID})
		assert.Equal(t, http.StatusNotFound, res.Status, res.String())
	}

	// The library's filter as Excel: exactly its rows.
	st = exportReady(t, member, map[string]any{"kind": "use-cases-xlsx", "filters": map[string]any{"category": "Energy Efficiency"}})
	assert.EqualValues(t, 2, st["rows"])
	book, err := excelize.OpenReader(bytes.NewReader(download(t, member, st, onHub)))
	require.NoError(t, err)
	rows, err := book.GetRows(book.GetSheetName(0))
	require.NoError(t, err)
	require.Len(t, rows, 3, "a header and the two energy use cases")
	assert.Equal(t, "Title", rows[0][1])
	got := []string{rows[1][0], rows[2][0]}
	assert.ElementsMatch(t, energy, got)
	f, err := book.GetCellFormula(book.GetSheetName(0), "B2")
	require.NoError(t, err)
	assert.Empty(t, f, "text stays text")

	// As CSV: a byte order mark, the same rows, the formula neutralized.
	st = exportReady(t, member, map[string]any{"kind": "use-cases-csv", "filters": map[string]any{"category": "Energy Efficiency", "q": "compressor"}})
	csv := download(t, member, st, onHub)
	require.True(t, bytes.HasPrefix(csv, []byte("\uFEFF")))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	require.Len(t, lines, 2, string(csv))
	assert.Contains(t, lines[1], `"'=HYPERLINK(""http://x"") compressor heat recovery"`)

	// Members, for admins.
	st = exportReady(t, amal, map[string]any{"kind": "members-xlsx"})
	book, err = excelize.OpenReader(bytes.NewReader(download(t, amal, st, onHub)))
	require.NoError(t, err)
	rows, err = book.GetRows(book.GetSheetName(0))
	require.NoError(t, err)
	assert.Len(t, rows, 3, "a header, amal and mia")
	res := member.Do(http.MethodPost, "/api/v1/exports", map[string]any{"kind": "members-xlsx"})
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())

	// The ready notification.
	notes := items(t, amal.Do(http.MethodGet, "/api/v1/notifications", nil))
	require.NotEmpty(t, notes)
	assert.Equal(t, "export_ready", notes[0]["type"])
	assert.Equal(t, "export", notes[0]["targetType"])

	// Hostile bodies, from the member (4 requests so far; a body that does not bind is not
	// counted, the 5 refused after it are: 9 of 12). amal proves the limit below.
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"not JSON", `{"kind":`, http.StatusBadRequest},
		{"wrong type", `{"kind": 7}`, http.StatusUnprocessableEntity},
		{"unknown kind", map[string]any{"kind": "pptx"}, http.StatusUnprocessableEntity},
		{"NUL", "{\"kind\": \"use-case-pdf\", \"useCaseId\": \"a\\u0000b\"}", http.StatusUnprocessableEntity},
		{"invalid UTF-8", "{\"kind\": \"\xff\"}", http.StatusBadRequest},
		{"oversized", `{"kind": "use-cases-csv", "filters": {"q": "` + strings.Repeat("a", 2<<20) + `"}}`, http.StatusRequestEntityTooLarge},
		{"long filter", map[string]any{"kind": "use-cases-csv", "filters": map[string]any{"q": strings.Repeat("ب", 201)}}, http.StatusUnprocessableEntity},
		{"bad id", map[string]any{"kind": "use-case-pdf", "useCaseId": "x"}, http.StatusUnprocessableEntity},
		{"unknown use case", map[string]any{"kind": "use-case-pdf", "useCaseId": uuid.NewString()}, http.StatusNotFound},
		{"bad sort", map[string]any{"kind": "use-cases-csv", "filters": map[string]any{"sort": "random"}}, http.StatusUnprocessableEntity},
	} {
		res := member.Do(http.MethodPost, "/api/v1/exports", tc.body)
		assert.Equal(t, tc.status, res.Status, "%s: %s", tc.name, res.String())
	}

	// The limit: amal asked for 2 so far; 10 more pass, the next is refused.
	for i := range perHour - 2 {
		res := amal.Do(http.MethodPost, "/api/v1/exports", map[string]any{"kind": "members-xlsx"})
		require.Equal(t, http.StatusAccepted, res.Status, "request %d: %s", i+3, res.String())
	}
	res = amal.Do(http.MethodPost, "/api/v1/exports", map[string]any{"kind": "members-xlsx"})
	assert.Equal(t, http.StatusTooManyRequests, res.Status, res.String())
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Equal(t, "rate_limited", res.JSON()["code"])
}
