package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestUseCaseJourneyOnMongo: the use case journey with P2P_MONGO_URL set (FerretDB, since
// MongoDB cannot be installed here): /health/ready checks MongoDB; a draft is created and
// autosaved, submitted and published; the whole document lives in MongoDB and PostgreSQL keeps
// its projection; the detail reads it whole, the library lists and finds it from the projection,
// and its PDF export (Chromium) prints parts only the MongoDB document holds.
func TestUseCaseJourneyOnMongo(t *testing.T) {
	for _, tool := range []string{"chromium", "pdftotext"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is needed (scripts/services.sh installs it)", tool)
	}
	const database = "p2p_e2e"
	mongoURL := mongotest.Start(t) + database
	env := harness.NewEnv(t)
	env.Vars = append(env.Vars, "P2P_MONGO_URL="+mongoURL)
	modEmail := harness.UniqueEmail("ucm-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr := seed.Verified(t, env, srv, "ucm-amal"), seed.Verified(t, env, srv, "ucm-badr")

	res := srv.Client(t).Do(http.MethodGet, "/health/ready", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	checks := res.JSON()["checks"].(map[string]any)
	require.Contains(t, checks, "mongo")
	assert.Equal(t, "up", checks["mongo"].(map[string]any)["status"])

	// Created, autosaved twice (a stale version still 412).
	res = amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "Draft on MongoDB"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	path := "/api/v1/use-cases/" + id
	res = amal.Do(http.MethodPatch, path, completeUseCase(t), `If-Match: "1"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = amal.Do(http.MethodPatch, path, map[string]any{"title": "Kiln vision inspection on MongoDB",
		"solution": map[string]any{"selectedVendor": "Vendor only MongoDB keeps"}}, `If-Match: "2"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "Vendor only MongoDB keeps", res.JSON()["solution"].(map[string]any)["selectedVendor"])
	assert.Equal(t, http.StatusPreconditionFailed, amal.Do(http.MethodPatch, path, map[string]any{"title": "Stale"}, `If-Match: "2"`).Status)

	// Submitted and published.
	res = amal.Do(http.MethodPost, path+"/submit", nil, `If-Match: "3"`)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+id+"/decision", map[string]any{"action": "publish"})
	require.Equal(t, http.StatusOK, res.Status, res.String())

	// Where it lives: the whole document in MongoDB, its projection in PostgreSQL, nothing
	// waiting in the outbox.
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(mongoURL))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	doc, version, err := usecasemongo.New(client.Database(database)).Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, 3, version, "the version of the last save")
	assert.Equal(t, "Vendor only MongoDB keeps", doc.Solution.SelectedVendor)
	assert.Equal(t, "Agile implementation with weekly sprints", doc.Implementation.Methodology)
	conn := db(t, env)
	var vendor, methodology, title string
	var queued int
	require.NoError(t, conn.QueryRow(ctx, `SELECT document->'solution'->>'selectedVendor', document->'implementation'->>'methodology',
		document->>'title', (SELECT count(*) FROM use_case_document_outbox) FROM use_cases WHERE id = $1`, id).
		Scan(&vendor, &methodology, &title, &queued))
	assert.Empty(t, vendor, "PostgreSQL keeps the projection only")
	assert.Empty(t, methodology)
	assert.Equal(t, "Kiln vision inspection on MongoDB", title)
	assert.Zero(t, queued)

	// Read whole by another organization; listed and found in the library.
	res = badr.Do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "Vendor only MongoDB keeps", res.JSON()["solution"].(map[string]any)["selectedVendor"])
	assert.Equal(t, "Agile implementation with weekly sprints", res.JSON()["implementation"].(map[string]any)["methodology"])
	for _, q := range []string{"", "?q=kiln", "?tech=" + url.QueryEscape("hardware platform"), "?city=riyadh"} {
		list := items(t, badr.Do(http.MethodGet, "/api/v1/use-cases"+q, nil))
		require.Len(t, list, 1, q)
		assert.Equal(t, id, list[0]["id"], q)
		assert.Equal(t, "Kiln vision inspection on MongoDB", list[0]["title"], q)
		assert.Equal(t, "6 months implementation", list[0]["timeframe"], q)
	}

	// The PDF prints what only the MongoDB document holds.
	st := exportReady(t, badr, map[string]any{"kind": "use-case-pdf", "useCaseId": id})
	pdf := download(t, badr, st, func(loc string) string { return onServer(t, srv, loc) })
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	file := filepath.Join(t.TempDir(), "u.pdf")
	require.NoError(t, os.WriteFile(file, pdf, 0o600))
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	require.NoError(t, err)
	text := strings.Join(strings.Fields(string(out)), " ")
	assert.Contains(t, text, "Kiln vision inspection on MongoDB")
	assert.Contains(t, text, "Vendor only MongoDB keeps")
	assert.Contains(t, text, "Synthetic defects from augmentation")
}
