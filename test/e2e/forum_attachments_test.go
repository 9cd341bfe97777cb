package e2e

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/media/mediatest"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestForumAttachments: a topic carries its author's uploads (a photo and a PDF here) and shows
// them to every reader with signed URLs (the image at hero size with a thumbnail, the PDF as a
// download with its first page); someone else's or unknown files refuse the post as a whole; an
// edit's list replaces the files (dropped ones released); a deleted topic's files are marked gone
// for the media sweep.
func TestForumAttachments(t *testing.T) {
	mediatest.RequireTool(t, "pdftoppm")
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_APP_API_DOMAIN="+apiDomain)
	amal, badr := seed.Verified(t, env, srv, "fa-amal"), seed.Verified(t, env, srv, "fa-badr")

	photo := readyImage(t, srv, amal, "line.jpg")
	doc, err := os.ReadFile(mediatest.PDF(t))
	require.NoError(t, err)
	pdf := startUpload(t, srv, amal.Client, "document", "application/pdf", "report.pdf", doc)
	res := amal.Do(http.MethodPost, "/api/v1/uploads/"+pdf+"/complete", nil)
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	require.Equal(t, "ready", awaitUpload(t, amal.Client, pdf)["status"])
	theirs := readyImage(t, srv, badr, "theirs.jpg")

	post := func(ids ...string) *harness.Response {
		return amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{
			"title": "Vibration on line 3", "content": "Photos and the report attached.", "attachmentIds": ids})
	}
	for name, c := range map[string]struct {
		ids   []string
		field string
	}{
		"someone else's": {[]string{photo, theirs}, "attachmentIds[1]"},
		"unknown":        {[]string{uuid.NewString()}, "attachmentIds[0]"},
		"not an id":      {[]string{"x"}, "attachmentIds[0]"},
		"twice":          {[]string{photo, photo}, "attachmentIds[1]"},
	} {
		res := post(c.ids...)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.String())
		assert.Contains(t, res.String(), `"field":"`+c.field+`"`, name)
	}
	var attached int
	require.NoError(t, db(t, env).QueryRow(context.Background(),
		`SELECT count(*) FROM files WHERE id = ANY($1::uuid[]) AND attached_at IS NOT NULL`, []string{photo, pdf}).Scan(&attached))
	assert.Zero(t, attached, "a refused post attaches nothing")

	res = post(photo, pdf)
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	id := res.JSON()["id"].(string)
	topic := badr.Do(http.MethodGet, "/api/v1/forum/topics/"+id, nil).JSON()
	files := topic["attachments"].([]any)
	require.Len(t, files, 2)
	img, report := files[0].(map[string]any), files[1].(map[string]any)
	assert.Equal(t, "image", img["type"])
	assert.Equal(t, "document", report["type"])
	assert.Equal(t, "report.pdf", report["name"])
	assert.EqualValues(t, 2, report["pages"])
	for _, u := range []any{img["url"], img["thumbnailUrl"], report["thumbnailUrl"]} {
		b, got := fetch(t, srv, u.(string))
		assert.Equal(t, http.StatusOK, got.StatusCode, "%s", b)
		assert.Equal(t, "image/webp", got.Header.Get("Content-Type"))
	}
	b, got := fetch(t, srv, report["url"].(string))
	require.Equal(t, http.StatusOK, got.StatusCode, "%s", b)
	assert.Equal(t, doc, b, "the PDF as uploaded")
	assert.Contains(t, got.Header.Get("Content-Disposition"), "report.pdf")

	// The edit's list is the topic's: the photo is dropped, so released.
	res = amal.Do(http.MethodPatch, "/api/v1/forum/topics/"+id, map[string]any{"attachmentIds": []string{pdf}})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	require.Len(t, res.JSON()["attachments"], 1)
	assert.Nil(t, amal.Do(http.MethodGet, "/api/v1/files/"+photo, nil).JSON()["attachedId"])
	res = badr.Do(http.MethodPatch, "/api/v1/forum/topics/"+id, map[string]any{"attachmentIds": []string{}})
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())

	// Deleted: the remaining file is marked gone.
	res = amal.Do(http.MethodDelete, "/api/v1/forum/topics/"+id, nil)
	require.Equal(t, http.StatusNoContent, res.Status, res.String())
	require.Eventually(t, func() bool {
		var gone bool
		require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT gone_at IS NOT NULL FROM files WHERE id = $1`, pdf).Scan(&gone))
		return gone
	}, 10*time.Second, 50*time.Millisecond, "the deleted topic's file is marked gone")
}
