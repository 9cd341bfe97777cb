package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/media/mediatest"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// readyImage uploads a photo of a's and waits until it is processed; it returns the file id.
func readyImage(t *testing.T, srv *harness.Server, a seed.Account, name string) string {
	t.Helper()
	id := startUpload(t, srv, a.Client, "image", "image/jpeg", name, mediatest.ExifJPEG(t, 1200, 800, 1))
	res := a.Do(http.MethodPost, "/api/v1/uploads/"+id+"/complete", nil)
	require.Equal(t, http.StatusAccepted, res.Status, res.String())
	require.Equal(t, "ready", awaitUpload(t, a.Client, id)["status"])
	return id
}

// TestUseCaseImages: a use case lists its author's uploaded images (imageIds, hero first) and
// shows them to its readers as signed URLs of three sizes (images[] in the frontend's shape, and
// gallery[]), and the library's card shows the first; other people's files, unknown, unready,
// repeated or too many ids are 422 on imageIds[i]; an image dropped from the list is released
// (the sweep then removes it), an image of one use case cannot be given to another, and the
// images of a deleted use case are marked gone for the sweep.
func TestUseCaseImages(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("img-mod")
	srv := env.Start(t, "P2P_APP_API_DOMAIN="+apiDomain, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	mod.Confirm(t, env)
	amal, badr := seed.Verified(t, env, srv, "img-amal"), seed.Verified(t, env, srv, "img-badr")

	first, second := readyImage(t, srv, amal, "line.jpg"), readyImage(t, srv, amal, "robot.jpg")
	badrs := readyImage(t, srv, badr, "theirs.jpg")
	res := amal.Do(http.MethodPost, "/api/v1/uploads", map[string]any{"kind": "image", "contentType": "image/png", "size": 100, "name": "later.png"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	unready := res.JSON()["file"].(map[string]any)["id"].(string)

	// Refused lists, each on its item; nothing is created.
	for name, c := range map[string]struct {
		ids   []string
		field string
	}{
		"someone else's": {[]string{first, badrs}, "imageIds[1]"},
		"unknown":        {[]string{uuid.NewString()}, "imageIds[0]"},
		"not an id":      {[]string{"../etc/passwd"}, "imageIds[0]"},
		"not ready":      {[]string{unready}, "imageIds[0]"},
		"twice":          {[]string{first, first}, "imageIds[1]"},
		"six":            {[]string{first, second, uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()}, "imageIds"},
	} {
		res := amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "Refused " + name, "imageIds": c.ids})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.String())
		assert.Contains(t, res.String(), `"field":"`+c.field+`"`, name)
	}
	res = amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "x", "imageIds": "not a list"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	mine := items(t, amal.Do(http.MethodGet, "/api/v1/use-cases/mine", nil))
	assert.Empty(t, mine, "no draft was left behind by a refused one")

	// A draft with one image, then both, hero first.
	id := draftUseCase(t, amal, map[string]any{"imageIds": []string{first}})
	path := "/api/v1/use-cases/" + id
	u := amal.Do(http.MethodGet, path, nil).JSON()
	assert.Equal(t, []any{first}, u["imageIds"])
	require.Len(t, u["images"], 1)
	gallery := u["gallery"].([]any)
	require.Len(t, gallery, 1)
	g := gallery[0].(map[string]any)
	assert.Equal(t, first, g["id"])
	assert.Equal(t, u["images"].([]any)[0], g["url"], "images[] are the hero-sized URLs")
	for _, size := range []string{"url", "cardUrl", "thumbnailUrl"} {
		b, got := fetch(t, srv, g[size].(string))
		assert.Equal(t, http.StatusOK, got.StatusCode, size)
		assert.Equal(t, "image/webp", got.Header.Get("Content-Type"), size)
		assert.NotEmpty(t, b, size)
	}
	res = amal.Do(http.MethodPatch, path, map[string]any{"imageIds": []string{second, first}})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, []any{second, first}, res.JSON()["imageIds"])
	require.Len(t, res.JSON()["gallery"], 2)
	assert.Equal(t, second, res.JSON()["gallery"].([]any)[0].(map[string]any)["id"])

	// An image of this use case is not another's.
	res = amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "Another", "imageIds": []string{second}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	assert.Contains(t, res.String(), "attached to other content")

	// Dropped from the list: released, so the sweep will remove it.
	res = amal.Do(http.MethodPatch, path, map[string]any{"imageIds": []string{second}})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	var attached bool
	require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT attached_at IS NOT NULL FROM files WHERE id = $1`, first).Scan(&attached))
	assert.False(t, attached, "the dropped image is released")
	assert.Nil(t, amal.Do(http.MethodGet, "/api/v1/files/"+first, nil).JSON()["attachedId"])
	assert.Equal(t, id, amal.Do(http.MethodGet, "/api/v1/files/"+second, nil).JSON()["attachedId"])

	// A released image may go to another draft; when that draft is deleted, its images are
	// marked gone (the media sweep deletes them after media.retention).
	doomed := draftUseCase(t, amal, map[string]any{"title": "Deleted soon", "imageIds": []string{first}})
	res = amal.Do(http.MethodDelete, "/api/v1/use-cases/"+doomed, nil)
	require.Equal(t, http.StatusNoContent, res.Status, res.String())
	require.Eventually(t, func() bool {
		var gone bool
		require.NoError(t, db(t, env).QueryRow(context.Background(), `SELECT gone_at IS NOT NULL FROM files WHERE id = $1`, first).Scan(&gone))
		return gone
	}, 10*time.Second, 50*time.Millisecond, "the deleted draft's image is marked gone")

	// Published: other readers get the images, and the library's card its first one.
	res = amal.Do(http.MethodPost, path+"/submit", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	res = mod.Do(http.MethodPost, "/api/v1/moderation/use-cases/"+id+"/decision", map[string]any{"action": "publish"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	u = badr.Do(http.MethodGet, path, nil).JSON()
	require.Len(t, u["images"], 1)
	b, got := fetch(t, srv, u["images"].([]any)[0].(string))
	assert.Equal(t, http.StatusOK, got.StatusCode, "%s", b)
	var card map[string]any
	for _, it := range items(t, badr.Do(http.MethodGet, "/api/v1/use-cases", nil)) {
		if it["id"] == id {
			card = it
		}
	}
	require.NotNil(t, card, "the published use case is in the library")
	img, _ := card["image"].(string)
	require.True(t, strings.HasPrefix(img, apiDomain+"/blobs/"), "the card's image is a signed URL: %v", card["image"])
	_, got = fetch(t, srv, img)
	assert.Equal(t, http.StatusOK, got.StatusCode)
}
