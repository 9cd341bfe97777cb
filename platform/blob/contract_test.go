package blob_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/blob"
)

// testStore is the Store contract every backend meets; TestDiskContract and TestS3Contract run
// the same function, so the hub cannot tell the backends apart through Store.
func testStore(t *testing.T, s blob.Store) {
	ctx := context.Background()
	get := func(t *testing.T, key string) string {
		t.Helper()
		rc, err := s.Open(ctx, key)
		require.NoError(t, err)
		defer rc.Close()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return string(b)
	}

	t.Run("round trip, replace, delete", func(t *testing.T) {
		n, err := s.Put(ctx, "avatars/org-1/a.jpg", strings.NewReader("first"), "image/jpeg", 100)
		require.NoError(t, err)
		assert.EqualValues(t, 5, n)
		assert.Equal(t, "first", get(t, "avatars/org-1/a.jpg"))
		info, err := s.Stat(ctx, "avatars/org-1/a.jpg")
		require.NoError(t, err)
		assert.Equal(t, "avatars/org-1/a.jpg", info.Key)
		assert.EqualValues(t, 5, info.Size)
		assert.Equal(t, "image/jpeg", info.ContentType)
		assert.False(t, info.ModTime.IsZero())

		_, err = s.Put(ctx, "avatars/org-1/a.jpg", strings.NewReader("second!"), "image/png", 100)
		require.NoError(t, err)
		assert.Equal(t, "second!", get(t, "avatars/org-1/a.jpg"))
		info, err = s.Stat(ctx, "avatars/org-1/a.jpg")
		require.NoError(t, err)
		assert.Equal(t, "image/png", info.ContentType)
		assert.EqualValues(t, 7, info.Size)

		require.NoError(t, s.Delete(ctx, "avatars/org-1/a.jpg"))
		assert.NoError(t, s.Delete(ctx, "avatars/org-1/a.jpg"), "deleting twice is not an error")
	})

	t.Run("a missing key is ErrNotFound (fs.ErrNotExist)", func(t *testing.T) {
		_, err := s.Stat(ctx, "avatars/none/x.jpg")
		assert.ErrorIs(t, err, blob.ErrNotFound)
		_, err = s.Open(ctx, "avatars/none/x.jpg")
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.NoError(t, s.Delete(ctx, "avatars/none/x.jpg"))
	})

	t.Run("size limit", func(t *testing.T) {
		n, err := s.Put(ctx, "limit/exact", strings.NewReader("12345"), "text/plain", 5)
		require.NoError(t, err, "content of exactly the limit fits")
		assert.EqualValues(t, 5, n)
		_, err = s.Put(ctx, "limit/over", strings.NewReader("123456"), "text/plain", 5)
		assert.ErrorIs(t, err, blob.ErrTooLarge)
		_, err = s.Stat(ctx, "limit/over")
		assert.ErrorIs(t, err, blob.ErrNotFound, "nothing stored")
		_, err = s.Put(ctx, "limit/exact", strings.NewReader("1234567"), "text/plain", 5)
		assert.ErrorIs(t, err, blob.ErrTooLarge)
		assert.Equal(t, "12345", get(t, "limit/exact"), "the old object stays")
		n, err = s.Put(ctx, "limit/none", bytes.NewReader(make([]byte, 1<<20)), "application/octet-stream", 0)
		require.NoError(t, err, "a limit of 0 means none")
		assert.EqualValues(t, 1<<20, n)
	})

	t.Run("a failed write leaves the old object", func(t *testing.T) {
		_, err := s.Put(ctx, "failed/k", strings.NewReader("old"), "text/plain", 0)
		require.NoError(t, err)
		_, err = s.Put(ctx, "failed/k", &failingReader{n: 4096}, "image/png", 0)
		require.Error(t, err)
		assert.Equal(t, "old", get(t, "failed/k"))
		info, err := s.Stat(ctx, "failed/k")
		require.NoError(t, err)
		assert.Equal(t, "text/plain", info.ContentType)

		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.Put(cancelled, "failed/k2", strings.NewReader("new"), "text/plain", 0)
		assert.ErrorIs(t, err, context.Canceled)
		_, err = s.Stat(ctx, "failed/k2")
		assert.ErrorIs(t, err, blob.ErrNotFound)
	})

	t.Run("invalid keys are refused", func(t *testing.T) {
		for _, key := range []string{"", "..", "../outside", "a/../../b", "/etc/passwd", "a//b", ".hidden", "a b", strings.Repeat("a", blob.MaxKeyLen+1)} {
			_, err := s.Put(ctx, key, strings.NewReader("x"), "text/plain", 0)
			assert.ErrorIs(t, err, blob.ErrInvalidKey, "%q", key)
			_, err = s.Open(ctx, key)
			assert.ErrorIs(t, err, blob.ErrInvalidKey, "%q", key)
			_, err = s.Stat(ctx, key)
			assert.ErrorIs(t, err, blob.ErrInvalidKey, "%q", key)
			assert.ErrorIs(t, s.Delete(ctx, key), blob.ErrInvalidKey, "%q", key)
		}
	})
}

func TestDiskContract(t *testing.T) {
	d, _ := newDisk(t)
	testStore(t, d)
}
