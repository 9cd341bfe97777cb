package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/blob"
)

func newDisk(t *testing.T) (*blob.Disk, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := blob.NewDisk(dir)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d, dir
}

// files lists every file under dir (hidden ones included), relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func readAll(t *testing.T, d *blob.Disk, key string) string {
	t.Helper()
	rc, err := d.Open(context.Background(), key)
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

func TestDiskRoundTrip(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)

	n, err := d.Put(ctx, "avatars/org-1/a.jpg", strings.NewReader("first"), "image/jpeg", 100)
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)
	assert.Equal(t, "first", readAll(t, d, "avatars/org-1/a.jpg"))

	info, err := d.Stat(ctx, "avatars/org-1/a.jpg")
	require.NoError(t, err)
	assert.Equal(t, "avatars/org-1/a.jpg", info.Key)
	assert.EqualValues(t, 5, info.Size)
	assert.Equal(t, "image/jpeg", info.ContentType)
	assert.False(t, info.ModTime.IsZero())

	// Replacing keeps one object with the new content and type.
	_, err = d.Put(ctx, "avatars/org-1/a.jpg", strings.NewReader("second!"), "image/png", 100)
	require.NoError(t, err)
	assert.Equal(t, "second!", readAll(t, d, "avatars/org-1/a.jpg"))
	info, err = d.Stat(ctx, "avatars/org-1/a.jpg")
	require.NoError(t, err)
	assert.Equal(t, "image/png", info.ContentType)
	assert.EqualValues(t, 7, info.Size)
	assert.ElementsMatch(t, []string{"avatars/org-1/a.jpg", "avatars/org-1/.a.jpg.meta"}, files(t, dir))

	require.NoError(t, d.Delete(ctx, "avatars/org-1/a.jpg"))
	_, err = d.Stat(ctx, "avatars/org-1/a.jpg")
	assert.ErrorIs(t, err, blob.ErrNotFound)
	_, err = d.Open(ctx, "avatars/org-1/a.jpg")
	assert.ErrorIs(t, err, fs.ErrNotExist, "callers can recognise a missing object without this package")
	assert.Empty(t, files(t, dir), "delete removes the content and its metadata")
	assert.NoError(t, d.Delete(ctx, "avatars/org-1/a.jpg"), "deleting twice is not an error")
}

func TestDiskSizeLimit(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)

	n, err := d.Put(ctx, "exact", strings.NewReader("12345"), "text/plain", 5)
	require.NoError(t, err, "content of exactly the limit fits")
	assert.EqualValues(t, 5, n)

	_, err = d.Put(ctx, "over", strings.NewReader("123456"), "text/plain", 5)
	assert.ErrorIs(t, err, blob.ErrTooLarge)
	_, err = d.Stat(ctx, "over")
	assert.ErrorIs(t, err, blob.ErrNotFound)

	// Too large for an existing key: the old object stays.
	_, err = d.Put(ctx, "exact", strings.NewReader("1234567"), "text/plain", 5)
	assert.ErrorIs(t, err, blob.ErrTooLarge)
	assert.Equal(t, "12345", readAll(t, d, "exact"))
	assert.ElementsMatch(t, []string{"exact", ".exact.meta"}, files(t, dir), "no temporary file is left behind")

	_, err = d.Put(ctx, "unlimited", bytes.NewReader(make([]byte, 1<<20)), "application/octet-stream", 0)
	assert.NoError(t, err, "a limit of 0 means none")
}

// failingReader yields some bytes, then fails, like a client that goes away mid-upload.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

func TestDiskFailedWriteLeavesTheOldObject(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)
	_, err := d.Put(ctx, "k", strings.NewReader("old"), "text/plain", 0)
	require.NoError(t, err)

	_, err = d.Put(ctx, "k", &failingReader{n: 4096}, "image/png", 0)
	require.Error(t, err)
	assert.Equal(t, "old", readAll(t, d, "k"))
	info, err := d.Stat(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "text/plain", info.ContentType, "the metadata is not touched by a failed write")
	assert.ElementsMatch(t, []string{"k", ".k.meta"}, files(t, dir))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = d.Put(cancelled, "k2", strings.NewReader("new"), "text/plain", 0)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ElementsMatch(t, []string{"k", ".k.meta"}, files(t, dir))
}

// TestDiskReadersNeverSeeAPartialObject overwrites one key while readers read it: every read is
// one complete version.
func TestDiskReadersNeverSeeAPartialObject(t *testing.T) {
	ctx := context.Background()
	d, _ := newDisk(t)
	const size = 256 << 10
	versions := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	_, err := d.Put(ctx, "hot", bytes.NewReader(versions[0]), "text/plain", 0)
	require.NoError(t, err)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := d.Put(ctx, "hot", bytes.NewReader(versions[i%2]), "text/plain", 0); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		got := []byte(readAll(t, d, "hot"))
		if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
			t.Fatalf("read a partial object of %d bytes", len(got))
		}
	}
	close(stop)
	wg.Wait()
}

func TestKeyValidation(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)
	tests := []struct {
		key   string
		valid bool
	}{
		{"avatars/0190f0e4-7d0c-7000-8000-000000000000/x.jpg", true},
		{"a", true},
		{"A_b-c.d/e", true},
		{"", false},
		{"..", false},
		{"../outside", false},
		{"a/../../outside", false},
		{"a/./b", false},
		{"/etc/passwd", false},
		{"a//b", false},
		{"a/", false},
		{".hidden", false},
		{"a/.b.meta", false},
		{"a/.tmp-0011", false},
		{`a\b`, false},
		{"a b", false},
		{"é", false},
		{"a\x00b", false},
		{strings.Repeat("a", blob.MaxKeyLen), true},
		{strings.Repeat("a", blob.MaxKeyLen+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			assert.Equal(t, tt.valid, blob.ValidKey(tt.key))
			if tt.valid {
				return
			}
			_, err := d.Put(ctx, tt.key, strings.NewReader("x"), "text/plain", 0)
			assert.ErrorIs(t, err, blob.ErrInvalidKey)
			_, err = d.Open(ctx, tt.key)
			assert.ErrorIs(t, err, blob.ErrInvalidKey)
			_, err = d.Stat(ctx, tt.key)
			assert.ErrorIs(t, err, blob.ErrInvalidKey)
			assert.ErrorIs(t, d.Delete(ctx, tt.key), blob.ErrInvalidKey)
		})
	}
	assert.Empty(t, files(t, dir), "no invalid key wrote anything")
}

// TestDiskSymlinksCannotEscape plants links in the storage directory, as a compromised or careless
// operator might: they are never followed out of it.
func TestDiskSymlinksCannotEscape(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("secret"), 0o600))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "file-link")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "dir-link")))

	_, err := d.Open(ctx, "file-link")
	assert.Error(t, err)
	_, err = d.Stat(ctx, "file-link")
	assert.Error(t, err)
	_, err = d.Put(ctx, "dir-link/planted", strings.NewReader("x"), "text/plain", 0)
	assert.Error(t, err)
	_, err = d.Open(ctx, "dir-link/secret")
	assert.Error(t, err)
	entries, _ := os.ReadDir(outside)
	assert.Len(t, entries, 1, "nothing was written outside the root")
}

func TestDiskDirectoriesAreNotObjects(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)
	_, err := d.Put(ctx, "logos/org/x.png", strings.NewReader("x"), "image/png", 0)
	require.NoError(t, err)
	_, err = d.Open(ctx, "logos/org")
	assert.ErrorIs(t, err, blob.ErrNotFound)
	_, err = d.Stat(ctx, "logos")
	assert.ErrorIs(t, err, blob.ErrNotFound)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "empty"), 0o750))
	require.NoError(t, d.Delete(ctx, "empty"))
	assert.DirExists(t, filepath.Join(dir, "empty"), "delete never removes a directory")
}

func TestStatWithoutMetadataFallsBack(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "copied-in"), []byte("x"), 0o600))
	info, err := d.Stat(ctx, "copied-in")
	require.NoError(t, err)
	assert.Equal(t, "application/octet-stream", info.ContentType)
}

// TestDiskWalk lists objects only: not metadata, temporary files, directories or links.
func TestDiskWalk(t *testing.T) {
	ctx := context.Background()
	d, dir := newDisk(t)
	for _, key := range []string{"b/2.png", "a.txt", "b/1.png", "c/d/e.pdf"} {
		_, err := d.Put(ctx, key, strings.NewReader(key), "text/plain", 0)
		require.NoError(t, err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b", ".tmp-0011"), []byte("x"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".hidden"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".hidden", "x"), []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "not a key"), []byte("x"), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "link")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "empty"), 0o750))

	var keys []string
	require.NoError(t, d.Walk(ctx, func(key string) error { keys = append(keys, key); return nil }))
	assert.Equal(t, []string{"a.txt", "b/1.png", "b/2.png", "c/d/e.pdf"}, keys)

	stop := errors.New("stop")
	n := 0
	err := d.Walk(ctx, func(string) error { n++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)
}
