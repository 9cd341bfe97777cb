package blob_test

import (
	"context"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/p2psandbox/hub/platform/blob"
)

// BenchmarkStreamS3: one large file up through S3.Put (as the worker stores a video's stripped
// original, media.putFile: a reader, no size limit beyond the video limit) and back through
// S3.Open copied out (as the worker copies an original to its temporary file before ffmpeg reads
// it), while a goroutine samples the heap every 2 ms. It reports the peak HeapInuse and HeapAlloc
// of the process during the transfer, and their growth over the heap before it: streaming holds
// one part buffer (S3Options.PartSize, 8 MiB) and the SDK's request state, whatever the size of
// the file, so the 20 MB and 200 MB figures should be alike.
//
// What is measured is our side only. gofakes3 (blobtest) keeps objects and multipart parts in
// memory as whole []byte in this same process, which would put the file's size into the heap
// figures; so this runs against diskS3 below, a minimal S3 endpoint in an httptest server that
// writes parts to files and serves objects from them (its handler copies through small buffers).
// The HTTP transport and the SDK's SigV4 signing (over http:// the payload is hashed, reading the
// part buffer) are included, as in production. The generated body is a ChaCha8 stream, never held
// whole; its SHA-256 on the way in is compared with the one read back.
//
//	go test ./platform/blob/ -run '^$' -bench StreamS3 -count 3 -benchtime 1x
func BenchmarkStreamS3(b *testing.B) {
	for _, size := range []int64{20 << 20, 200 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) { benchStream(b, size) })
	}
}

func benchStream(b *testing.B, size int64) {
	ctx := context.Background()
	srv := httptest.NewServer(newDiskS3(b.TempDir()))
	b.Cleanup(srv.Close)
	store, err := blob.NewS3(ctx, blob.S3Options{
		Endpoint: srv.URL, Region: "us-east-1", Bucket: "bench", AccessKey: "AKIABENCH", SecretKey: "bench-secret",
		PathStyle: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	var peakInuse, peakAlloc, baseInuse, baseAlloc uint64
	for i := 0; b.Loop(); i++ {
		key := "uploads/bench/" + strconv.Itoa(i)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		baseInuse, baseAlloc = ms.HeapInuse, ms.HeapAlloc
		stop := sampleHeap(&peakInuse, &peakAlloc)

		in := sha256.New()
		body := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{byte(i)}), size), in)
		n, err := store.Put(ctx, key, body, "video/mp4", 200<<20)
		if err != nil || n != size {
			b.Fatalf("put: %d bytes, %v", n, err)
		}
		rc, err := store.Open(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		out := sha256.New()
		m, err := io.Copy(out, rc)
		rc.Close()
		stop()
		if err != nil || m != size {
			b.Fatalf("open: %d bytes, %v", m, err)
		}
		if string(in.Sum(nil)) != string(out.Sum(nil)) {
			b.Fatal("the bytes read back differ from those stored")
		}
	}
	const mb = 1 << 20
	b.ReportMetric(float64(peakInuse)/mb, "peak-heapinuse-MB")
	b.ReportMetric(float64(peakAlloc)/mb, "peak-heapalloc-MB")
	b.ReportMetric((float64(peakInuse)-float64(baseInuse))/mb, "heapinuse-growth-MB")
	b.ReportMetric((float64(peakAlloc)-float64(baseAlloc))/mb, "heapalloc-growth-MB")
}

// sampleHeap records the largest HeapInuse and HeapAlloc seen until stop returns.
func sampleHeap(inuse, alloc *uint64) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			*inuse = max(*inuse, ms.HeapInuse)
			*alloc = max(*alloc, ms.HeapAlloc)
			if done.Load() {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}

// diskS3 answers the S3 calls Put and Open make (PutObject, the multipart upload, GetObject),
// path style, from files under dir. It checks no signature: it stands in for the server only so
// that the server's memory stays out of the measurement.
type diskS3 struct {
	dir string

	mu    sync.Mutex
	types map[string]string // object → content type
	next  int
}

func newDiskS3(dir string) *diskS3 { return &diskS3{dir: dir, types: map[string]string{}} }

func (d *diskS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() { _, _ = io.Copy(io.Discard, r.Body) }()
	obj := filepath.Join(d.dir, "objects", strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/"), "/", "_"))
	q := r.URL.Query()
	upload := q.Get("uploadId")
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		d.mu.Lock()
		d.next++
		id := strconv.Itoa(d.next)
		d.types[obj] = r.Header.Get("Content-Type")
		d.mu.Unlock()
		writeXML(w, struct {
			XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
			UploadID string   `xml:"UploadId"`
		}{UploadID: id})
	case r.Method == http.MethodPut && upload != "":
		num, err := strconv.Atoi(q.Get("partNumber"))
		if err != nil {
			http.Error(w, "bad part number", http.StatusBadRequest)
			return
		}
		sum, err := writeFile(filepath.Join(d.dir, "parts", upload, fmt.Sprintf("%05d", num)), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", `"`+sum+`"`)
	case r.Method == http.MethodPost && upload != "":
		if err := d.assemble(obj, filepath.Join(d.dir, "parts", upload)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeXML(w, struct {
			XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
			ETag    string
		}{ETag: `"multipart"`})
	case r.Method == http.MethodDelete && upload != "":
		_ = os.RemoveAll(filepath.Join(d.dir, "parts", upload))
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPut:
		sum, err := writeFile(obj, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		d.mu.Lock()
		d.types[obj] = r.Header.Get("Content-Type")
		d.mu.Unlock()
		w.Header().Set("ETag", `"`+sum+`"`)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		f, err := os.Open(obj)
		if err != nil {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `<Error><Code>NoSuchKey</Code></Error>`)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		d.mu.Lock()
		w.Header().Set("Content-Type", d.types[obj])
		d.mu.Unlock()
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		if r.Method == http.MethodGet {
			_, _ = io.Copy(w, f)
		}
	default:
		http.Error(w, "not implemented", http.StatusNotImplemented)
	}
}

// assemble concatenates the parts (named by number, in order) into obj.
func (d *diskS3) assemble(obj, parts string) error {
	names, err := filepath.Glob(filepath.Join(parts, "*"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		return err
	}
	out, err := os.Create(obj)
	if err != nil {
		return err
	}
	defer out.Close()
	for _, name := range names {
		in, err := os.Open(name)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			return err
		}
	}
	return os.RemoveAll(parts)
}

// writeFile stores r at path; it returns an ETag (S3's is an MD5, which no caller here checks).
func writeFile(path string, r io.Reader) (string, error) {
	h := sha256.New()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:16]), err
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(v)
}
