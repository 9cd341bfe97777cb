package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"
)

// Disk is a Store on a local directory. An object lives in the file named by its key; its
// content type lives beside it in a hidden ".<name>.meta" file. Every write goes to a hidden
// temporary file in the target's directory and is renamed into place, so a reader sees the old
// object or the new one, and a crash leaves at most a ".tmp-*" file behind.
//
// All file access goes through an os.Root: even a key that slipped past validation, or a symbolic
// link planted in the directory, cannot reach a file outside it.
type Disk struct {
	root *os.Root
	// base and secret sign presigned URLs (WithURLSigning); nil base: presigning is off.
	base   *url.URL
	secret []byte
}

var _ Objects = (*Disk)(nil)

// NewDisk opens (creating it if needed) the storage directory dir.
func NewDisk(dir string, opts ...DiskOption) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob: creating %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: opening %s: %w", dir, err)
	}
	d := &Disk{root: root}
	for _, o := range opts {
		if err := o(d); err != nil {
			root.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close releases the directory.
func (d *Disk) Close() error { return d.root.Close() }

type meta struct {
	ContentType string `json:"contentType"`
}

// metaName is the bookkeeping file of key. Its name starts with a dot, which no key segment may,
// so it can never be mistaken for an object.
func metaName(key string) string {
	dir, name := path.Split(key)
	return dir + "." + name + ".meta"
}

// Put implements Store. The metadata is renamed into place before the content, so an object
// that can be opened always has its content type.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dir := path.Dir(key)
	if err := d.root.MkdirAll(dir, 0o750); err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	src := r
	if maxSize > 0 {
		src = io.LimitReader(r, maxSize+1)
	}
	var n int64
	tmp, err := d.writeTemp(dir, func(w io.Writer) error {
		var err error
		n, err = io.Copy(w, src)
		if err != nil {
			return err
		}
		if maxSize > 0 && n > maxSize {
			return fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxSize)
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := d.writeMeta(dir, key, contentType); err != nil {
		_ = d.root.Remove(tmp)
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := d.root.Rename(tmp, key); err != nil {
		_ = d.root.Remove(tmp)
		return 0, fmt.Errorf("blob: put %s: %w", key, err)
	}
	d.syncDir(dir)
	return n, nil
}

func (d *Disk) writeMeta(dir, key, contentType string) error {
	b, err := json.Marshal(meta{ContentType: contentType})
	if err != nil {
		return err
	}
	tmp, err := d.writeTemp(dir, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if err := d.root.Rename(tmp, metaName(key)); err != nil {
		_ = d.root.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes a new hidden file in dir with fill, flushes it to disk and returns its name.
// On failure the file is removed.
func (d *Disk) writeTemp(dir string, fill func(io.Writer) error) (string, error) {
	var (
		f    *os.File
		name string
		err  error
	)
	for range 5 {
		b := make([]byte, 8)
		if _, err = rand.Read(b); err != nil {
			return "", err
		}
		name = path.Join(dir, ".tmp-"+hex.EncodeToString(b))
		f, err = d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync() // the rename must not become durable before the content
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = d.root.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir makes a rename in dir durable. It is best effort: the object is already visible, and
// not every file system supports syncing a directory.
func (d *Disk) syncDir(dir string) {
	if f, err := d.root.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// Open implements Store. The reader is an *os.File, so it also implements io.Seeker.
func (d *Disk) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := d.root.Open(key)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("blob: open %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// Stat implements Store.
func (d *Disk) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := d.root.Stat(key)
	if err != nil {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("blob: stat %s: %w", key, ErrNotFound)
	}
	info := Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime(), ContentType: "application/octet-stream"}
	if b, err := d.root.ReadFile(metaName(key)); err == nil {
		var m meta
		if json.Unmarshal(b, &m) == nil && m.ContentType != "" {
			info.ContentType = m.ContentType
		}
	}
	return info, nil
}

// Delete implements Store: the content first, so that the object disappears at once, then its
// metadata.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// A key that names a directory holds no object; Remove would delete an empty one.
	if fi, err := d.root.Lstat(key); err == nil && fi.IsDir() {
		return nil
	}
	for _, name := range []string{key, metaName(key)} {
		if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: delete %s: %w", key, err)
		}
	}
	return nil
}

// Walk calls fn with the key of every object under the directory, in lexical order. Bookkeeping
// and temporary files (hidden names), directories, links and files whose path is not a valid key
// are not objects and are passed over. An error from fn stops the walk and is returned.
func (d *Disk) Walk(ctx context.Context, fn func(key string) error) error {
	return fs.WalkDir(d.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("blob: walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !ValidKey(p) {
			return nil
		}
		return fn(p)
	})
}
