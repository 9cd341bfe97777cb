package media_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const baseURL = "https://api.example.test/media/"

// queue records what was enqueued; processing is driven by the test.
type queue struct {
	mu   sync.Mutex
	ids  []string
	fail error
}

func (q *queue) EnqueueImage(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.ids = append(q.ids, id)
	return nil
}

// publisher is the identity service, able to fail its next calls like a database hiccup would.
type publisher struct {
	*identity.Service
	mu       sync.Mutex
	failures int
}

func (p *publisher) hiccup() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures > 0 {
		p.failures--
		return errors.New("connection reset")
	}
	return nil
}

func (p *publisher) SetAvatar(ctx context.Context, userID string, url *string) error {
	if err := p.hiccup(); err != nil {
		return err
	}
	return p.Service.SetAvatar(ctx, userID, url)
}

func (p *publisher) SetLogo(ctx context.Context, orgID string, url *string) error {
	if err := p.hiccup(); err != nil {
		return err
	}
	return p.Service.SetLogo(ctx, orgID, url)
}

type env struct {
	pool  *pgxpool.Pool
	dir   string
	queue *queue
	pub   *publisher
	svc   *media.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool, _ := pgtest.New(t)
	dir := t.TempDir()
	disk, err := blob.NewDisk(dir)
	require.NoError(t, err)
	t.Cleanup(func() { disk.Close() })
	e := &env{pool: pool, dir: dir, queue: &queue{},
		pub: &publisher{Service: identity.NewService(identity.Deps{Store: identitydb.New(pool)})}}
	e.svc = media.NewService(mediadb.New(pool), disk, e.queue, e.pub, media.Config{BaseURL: baseURL})
	return e
}

// signUp creates an organization with its owner and returns the owner as a principal.
func (e *env) signUp(t *testing.T) identity.Principal {
	t.Helper()
	return identitytest.NewOrg(t, e.pool).Owner
}

func (e *env) upload(t *testing.T, p identity.Principal, kind media.Kind, b []byte) media.File {
	t.Helper()
	f, err := e.svc.Upload(context.Background(), p, kind, bytes.NewReader(b))
	require.NoError(t, err)
	return f
}

func (e *env) process(t *testing.T, f media.File) media.File {
	t.Helper()
	require.NoError(t, e.svc.Process(context.Background(), f.ID))
	return e.file(t, f)
}

func (e *env) file(t *testing.T, f media.File) media.File {
	t.Helper()
	got, err := e.svc.File(context.Background(), identity.Principal{OrganizationID: f.OrganizationID}, f.ID)
	require.NoError(t, err)
	return got
}

// stored lists the objects in storage (bookkeeping files aside).
func (e *env) stored(t *testing.T) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(e.dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	}))
	return out
}

func (e *env) rows(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM files`).Scan(&n))
	return n
}

func (e *env) avatar(t *testing.T, userID string) *string {
	t.Helper()
	var url *string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT avatar_url FROM users WHERE id = $1`, userID).Scan(&url))
	return url
}

func (e *env) logo(t *testing.T, orgID string) *string {
	t.Helper()
	var url *string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT logo_url FROM organizations WHERE id = $1`, orgID).Scan(&url))
	return url
}

// served reads the object a URL points to and decodes it.
func (e *env) served(t *testing.T, url *string) image.Image {
	t.Helper()
	require.NotNil(t, url)
	key := strings.TrimPrefix(*url, baseURL)
	require.True(t, media.Public(key), "%s is served publicly", key)
	b, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(key)))
	require.NoError(t, err)
	img, _, err := image.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return img
}

func TestUploadAndProcess(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		upload string // content type recorded at upload
		output string // content type served
	}{
		{"jpeg", encodeJPEG(t, photo(800, 600)), "image/jpeg", "image/jpeg"},
		{"png", encodePNG(t, photo(300, 500)), "image/png", "image/jpeg"},
		{"transparent png", transparent(t, 300, 300), "image/png", "image/png"},
		{"webp", fixture(t, "photo.webp"), "image/webp", "image/jpeg"},
		{"webp with alpha", fixture(t, "alpha.webp"), "image/webp", "image/png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			p := e.signUp(t)

			f := e.upload(t, p, media.Avatar, tt.data)
			assert.Equal(t, media.Pending, f.Status)
			assert.Equal(t, tt.upload, f.ContentType)
			assert.EqualValues(t, len(tt.data), f.Size)
			assert.Nil(t, f.URL)
			assert.Equal(t, []string{f.ID}, e.queue.ids)
			assert.Equal(t, []string{"originals/" + p.OrganizationID + "/" + f.ID}, e.stored(t))
			used, err := e.svc.StorageUsed(ctx, p.OrganizationID)
			require.NoError(t, err)
			assert.EqualValues(t, len(tt.data), used, "a pending original counts")

			f = e.process(t, f)
			assert.Equal(t, media.Ready, f.Status)
			assert.Equal(t, tt.output, f.ContentType)
			ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png"}[tt.output]
			key := "avatars/" + p.OrganizationID + "/" + f.ID + ext
			require.NotNil(t, f.URL)
			assert.Equal(t, baseURL+key, *f.URL)
			assert.Equal(t, f.URL, e.avatar(t, p.UserID), "the user's avatar points at it")
			assert.Equal(t, []string{key}, e.stored(t), "the original is gone")
			assert.Equal(t, image.Rect(0, 0, 256, 256), e.served(t, f.URL).Bounds())
			used, err = e.svc.StorageUsed(ctx, p.OrganizationID)
			require.NoError(t, err)
			assert.Equal(t, f.Size, used)

			require.NoError(t, e.svc.Process(ctx, f.ID), "processing again is harmless")
			assert.Equal(t, []string{key}, e.stored(t))
		})
	}
}

func TestRefusedUploadsStoreNothing(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	tests := []struct {
		name string
		data []byte
		code errs.Code
	}{
		{"gif", gifImage(t), errs.Unsupported},
		{"text renamed .png", []byte("not an image at all"), errs.Unsupported},
		{"empty", nil, errs.Validation},
		{"bomb", pngHeader(20000, 20000), errs.Validation},
		{"too large", append(encodePNG(t, photo(10, 10)), make([]byte, media.MaxBytes)...), errs.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kind := range []media.Kind{media.Avatar, media.Logo} {
				_, err := e.svc.Upload(context.Background(), p, kind, bytes.NewReader(tt.data))
				assert.Equal(t, tt.code, errs.CodeOf(err), "%v", err)
			}
			assert.Zero(t, e.rows(t))
			assert.Empty(t, e.stored(t))
			assert.Empty(t, e.queue.ids)
		})
	}
}

func TestEnqueueFailureUndoesTheUpload(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	e.queue.fail = errors.New("redis: connection refused")
	_, err := e.svc.Upload(context.Background(), p, media.Avatar, bytes.NewReader(encodeJPEG(t, photo(50, 50))))
	assert.Equal(t, errs.Unavailable, errs.CodeOf(err))
	assert.Zero(t, e.rows(t))
	assert.Empty(t, e.stored(t))
}

func TestCorruptImageFailsAndIsRemoved(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	// The header is fine, so the upload is accepted; the pixel data is cut short.
	b := encodePNG(t, photo(300, 300))
	f := e.upload(t, p, media.Avatar, b[:len(b)/2])
	f = e.process(t, f)
	assert.Equal(t, media.Failed, f.Status)
	assert.Contains(t, f.Error, "could not be decoded")
	assert.Nil(t, f.URL)
	assert.Zero(t, f.Size)
	assert.Empty(t, e.stored(t))
	assert.Nil(t, e.avatar(t, p.UserID))
	used, err := e.svc.StorageUsed(context.Background(), p.OrganizationID)
	require.NoError(t, err)
	assert.Zero(t, used)
}

func TestReplacingDeletesThePreviousImage(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	first := e.process(t, e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100))))
	second := e.process(t, e.upload(t, p, media.Avatar, transparent(t, 100, 100)))
	assert.Equal(t, second.URL, e.avatar(t, p.UserID))
	assert.Equal(t, []string{"avatars/" + p.OrganizationID + "/" + second.ID + ".png"}, e.stored(t))
	assert.Equal(t, 1, e.rows(t), "the replaced file's row is gone")
	_, err := e.svc.File(context.Background(), p, first.ID)
	assert.Equal(t, errs.NotFound, errs.CodeOf(err))
}

// TestNewestUploadWins finishes two uploads out of order: the older one does not replace the
// newer one.
func TestNewestUploadWins(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	older := e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100)))
	newer := e.upload(t, p, media.Avatar, encodeJPEG(t, photo(120, 100)))
	newer = e.process(t, newer)
	older = e.process(t, older)
	assert.Equal(t, media.Failed, older.Status)
	assert.Contains(t, older.Error, "newer upload")
	assert.Equal(t, newer.URL, e.avatar(t, p.UserID))
	assert.Equal(t, []string{"avatars/" + p.OrganizationID + "/" + newer.ID + ".jpg"}, e.stored(t))
}

// TestConcurrentProcessingLeavesOneImage processes several uploads of one avatar at once: one
// image stays, the newest, and the avatar points at it.
func TestConcurrentProcessingLeavesOneImage(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	var files []media.File
	for i := range 5 {
		files = append(files, e.upload(t, p, media.Avatar, encodeJPEG(t, photo(60+i, 60))))
	}
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Go(func() { assert.NoError(t, e.svc.Process(context.Background(), f.ID)) })
	}
	wg.Wait()
	last := e.file(t, files[len(files)-1])
	assert.Equal(t, media.Ready, last.Status)
	assert.Equal(t, last.URL, e.avatar(t, p.UserID))
	assert.Equal(t, []string{strings.TrimPrefix(*last.URL, baseURL)}, e.stored(t))
	var ready int
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT count(*) FROM files WHERE status = 'ready'`).Scan(&ready))
	assert.Equal(t, 1, ready)
}

func TestPublishFailureIsRetried(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	f := e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100)))
	e.pub.failures = 1
	require.Error(t, e.svc.Process(context.Background(), f.ID), "a failure a retry may cure is returned")
	assert.Equal(t, media.Pending, e.file(t, f).Status, "nothing was recorded")
	assert.Nil(t, e.avatar(t, p.UserID))

	f = e.process(t, f)
	assert.Equal(t, media.Ready, f.Status)
	assert.Equal(t, f.URL, e.avatar(t, p.UserID))
	assert.Len(t, e.stored(t), 1)
}

func TestAbandon(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	f := e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100)))
	require.NoError(t, e.svc.Abandon(context.Background(), f.ID))
	f = e.file(t, f)
	assert.Equal(t, media.Failed, f.Status)
	assert.Equal(t, "the image could not be processed; upload it again", f.Error)
	assert.Empty(t, e.stored(t))
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.signUp(t)

	e.process(t, e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100))))
	require.NoError(t, e.svc.Remove(ctx, p, media.Avatar))
	assert.Nil(t, e.avatar(t, p.UserID))
	assert.Empty(t, e.stored(t))
	assert.Zero(t, e.rows(t))
	require.NoError(t, e.svc.Remove(ctx, p, media.Avatar), "removing nothing is fine")

	// An upload still being processed is cancelled and never shows up.
	pending := e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100)))
	require.NoError(t, e.svc.Remove(ctx, p, media.Avatar))
	pending = e.process(t, pending)
	assert.Equal(t, media.Failed, pending.Status)
	assert.Equal(t, "cancelled: the avatar was removed", pending.Error)
	assert.Nil(t, e.avatar(t, p.UserID))
	assert.Empty(t, e.stored(t))
}

func TestLogo(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.signUp(t)
	other := e.signUp(t)

	avatar := e.process(t, e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100))))
	logo := e.process(t, e.upload(t, p, media.Logo, transparent(t, 200, 100)))
	require.NotNil(t, logo.URL)
	assert.True(t, strings.HasPrefix(*logo.URL, baseURL+"logos/"+p.OrganizationID+"/"))
	assert.Equal(t, logo.URL, e.logo(t, p.OrganizationID))
	assert.Equal(t, avatar.URL, e.avatar(t, p.UserID), "a logo does not replace an avatar")
	e.process(t, e.upload(t, other, media.Logo, encodeJPEG(t, photo(90, 90))))

	used, err := e.svc.StorageUsed(ctx, p.OrganizationID)
	require.NoError(t, err)
	assert.Equal(t, avatar.Size+logo.Size, used, "storage is counted per organization")

	require.NoError(t, e.svc.Remove(ctx, p, media.Logo))
	assert.Nil(t, e.logo(t, p.OrganizationID))
	assert.Equal(t, avatar.URL, e.avatar(t, p.UserID))
	assert.NotNil(t, e.logo(t, other.OrganizationID), "another organization's logo stays")
}

func TestFileIsScopedToTheOrganization(t *testing.T) {
	e := newEnv(t)
	p := e.signUp(t)
	other := e.signUp(t)
	f := e.upload(t, p, media.Avatar, encodeJPEG(t, photo(100, 100)))
	for _, tt := range []struct {
		name string
		p    identity.Principal
		id   string
	}{
		{"another organization", other, f.ID},
		{"malformed id", p, "not-a-uuid"},
		{"unknown id", p, ids.New()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.File(context.Background(), tt.p, tt.id)
			assert.Equal(t, errs.NotFound, errs.CodeOf(err))
		})
	}
	got, err := e.svc.File(context.Background(), p, f.ID)
	require.NoError(t, err)
	assert.Equal(t, f.ID, got.ID)
}
