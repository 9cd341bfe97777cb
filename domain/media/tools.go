package media

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Tools runs the external programs of the pipeline: ffprobe and ffmpeg (Debian's ffmpeg) for
// videos, pdfinfo and pdftoppm (poppler-utils) for PDFs. Each runs directly (never through a
// shell: the file's path is one argument and its name is never on the command line), on a
// temporary copy of the upload, under a timeout, and with limits on memory, CPU time and output
// size set by prlimit (util-linux) when it is installed.
type Tools struct {
	Timeout time.Duration
	// MemoryBytes caps each program's address space; CPUSeconds its processor time.
	MemoryBytes int64
	CPUSeconds  int
}

// run runs name with args and returns its standard output (at most 64 MB).
func (t Tools) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("media: %s is not installed (see docs/operations.md): %w", name, err)
	}
	argv := append([]string{path}, args...)
	if pl, err := exec.LookPath("prlimit"); err == nil {
		mem, cpu := t.MemoryBytes, t.CPUSeconds
		if mem <= 0 {
			mem = 1 << 30
		}
		if cpu <= 0 {
			cpu = int(timeout / time.Second)
		}
		argv = append([]string{pl, "--as=" + strconv.FormatInt(mem, 10), "--cpu=" + strconv.Itoa(cpu),
			"--fsize=" + strconv.Itoa(256<<20), "--nofile=64", "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = 64<<20, 8<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, &toolError{name: name, timedOut: true, err: ctx.Err()}
	}
	if err != nil {
		return nil, &toolError{name: name, stderr: strings.TrimSpace(stderr.String()), err: err}
	}
	return stdout.Bytes(), nil
}

// toolError is a program that failed on a file: the file's fault, not the worker's.
type toolError struct {
	name     string
	stderr   string
	timedOut bool
	err      error
}

func (e *toolError) Error() string {
	if e.timedOut {
		return e.name + " timed out"
	}
	return fmt.Sprintf("%s: %v: %s", e.name, e.err, e.stderr)
}

func (e *toolError) Unwrap() error { return e.err }

type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room < len(p) {
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return 0, errors.New("output limit reached")
	}
	return b.Buffer.Write(p)
}

// probe is the part of ffprobe's JSON the pipeline reads.
type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// VideoMaxSide bounds a video's frame: larger frames are refused before ffmpeg decodes one.
const VideoMaxSide = 8192

// RenderVideo reads a video's duration and renders its poster (card size, WebP and JPEG) and
// preview (thumbnail size, JPEG) from one frame, a second in or at half the length of shorter
// clips. path is a temporary copy of the upload.
func (t Tools) RenderVideo(ctx context.Context, path string) ([]Encoded, Meta, error) {
	bad := refuse("the file is not a playable MP4 or WebM video; it may be truncated or corrupt",
		"الملف ليس فيديو MP4 أو WebM قابلاً للتشغيل؛ قد يكون مبتوراً أو تالفاً")
	out, err := t.run(ctx, "ffprobe", "-v", "error", "-print_format", "json",
		"-show_entries", "format=format_name,duration:stream=codec_type,width,height", "file:"+path)
	if err != nil {
		return nil, Meta{}, toolRefusal(err, bad)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, Meta{}, bad
	}
	format := p.Format.FormatName
	if !strings.Contains(format, "mp4") && !strings.Contains(format, "mov") && !strings.Contains(format, "webm") {
		return nil, Meta{}, bad
	}
	var meta Meta
	for _, s := range p.Streams {
		if s.CodecType == "video" && s.Width > 0 {
			meta.Width, meta.Height = s.Width, s.Height
			break
		}
	}
	if meta.Width == 0 {
		return nil, Meta{}, refuse("the file has no video track", "الملف لا يحتوي على مسار فيديو")
	}
	if meta.Width > VideoMaxSide || meta.Height > VideoMaxSide {
		return nil, Meta{}, refuse(fmt.Sprintf("the video's frames are %d×%d; at most %d pixels a side are accepted", meta.Width, meta.Height, VideoMaxSide),
			fmt.Sprintf("أبعاد إطارات الفيديو %d×%d؛ الحد الأقصى %d بكسل لكل جانب", meta.Width, meta.Height, VideoMaxSide))
	}
	meta.DurationSeconds, _ = strconv.ParseFloat(p.Format.Duration, 64)
	if meta.DurationSeconds <= 0 {
		return nil, Meta{}, bad
	}
	at := min(1.0, meta.DurationSeconds/2)
	frame, err := t.run(ctx, "ffmpeg", "-nostdin", "-v", "error", "-threads", "1",
		"-ss", strconv.FormatFloat(at, 'f', 3, 64), "-i", "file:"+path,
		"-frames:v", "1", "-vf", "scale='min(1600,iw)':-2", "-f", "image2pipe", "-c:v", "png", "pipe:1")
	if err != nil {
		return nil, Meta{}, toolRefusal(err, bad)
	}
	img, err := png.Decode(bytes.NewReader(frame))
	if err != nil {
		return nil, Meta{}, bad
	}
	frames, _, err := renderPixels(img, 1)
	if err != nil {
		return nil, Meta{}, err
	}
	var vs []Encoded
	for _, e := range frames {
		switch {
		case e.Name == "card":
			e.Name = "poster"
			vs = append(vs, e)
		case e.Name == "thumbnail" && e.Format == "jpeg":
			e.Name = "preview"
			vs = append(vs, e)
		}
	}
	return vs, meta, nil
}

// videoMuxers name ffmpeg's muxer for each accepted video type.
var videoMuxers = map[string]string{"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}

// StripVideo copies the video and audio tracks of the video at in to out without re-encoding,
// leaving behind every other track (subtitles, data tracks such as an action camera's GPS
// telemetry), the chapters and all metadata: a phone's video carries where it was filmed
// (QuickTime's ©xyz or its location key) and the original is what people download. The muxer
// is the one of contentType (the sniffed type), so a Matroska file sniffed as WebM but holding
// codecs WebM does not allow is refused here.
func (t Tools) StripVideo(ctx context.Context, in, out, contentType string) error {
	muxer, ok := videoMuxers[contentType]
	if !ok {
		return fmt.Errorf("media: no muxer for %q", contentType)
	}
	args := []string{"-nostdin", "-v", "error", "-threads", "1", "-i", "file:" + in,
		"-map", "0:v", "-map", "0:a?", "-map_metadata", "-1", "-map_chapters", "-1",
		"-c", "copy", "-fflags", "+bitexact"}
	if muxer != "webm" {
		args = append(args, "-movflags", "+faststart")
	}
	args = append(args, "-f", muxer, "-y", "file:"+out)
	if _, err := t.run(ctx, "ffmpeg", args...); err != nil {
		return toolRefusal(err, refuse("the video's tracks could not be copied; it may be corrupt or use codecs its format does not allow",
			"تعذّر نسخ مسارات الفيديو؛ قد يكون تالفاً أو يستخدم ترميزاً لا يسمح به نوعه"))
	}
	return nil
}

// RenderPDF reads a PDF's page count and renders its first page as a thumbnail (thumbnail and
// card sizes, WebP and JPEG).
func (t Tools) RenderPDF(ctx context.Context, path string) ([]Encoded, Meta, error) {
	bad := refuse("the file is not a readable PDF; it may be truncated, corrupt or encrypted",
		"الملف ليس مستند PDF قابلاً للقراءة؛ قد يكون مبتوراً أو تالفاً أو مشفراً")
	info, err := t.run(ctx, "pdfinfo", path)
	if err != nil {
		return nil, Meta{}, toolRefusal(err, bad)
	}
	var meta Meta
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			meta.Pages, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if meta.Pages <= 0 {
		return nil, Meta{}, bad
	}
	dir, err := os.MkdirTemp("", "p2p-pdf-")
	if err != nil {
		return nil, Meta{}, fmt.Errorf("media: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	prefix := filepath.Join(dir, "page")
	if _, err := t.run(ctx, "pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-scale-to", "800", "-png", path, prefix); err != nil {
		return nil, Meta{}, toolRefusal(err, bad)
	}
	b, err := os.ReadFile(prefix + ".png")
	if err != nil {
		return nil, Meta{}, bad
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, Meta{}, bad
	}
	b0 := img.Bounds()
	meta.Width, meta.Height = b0.Dx(), b0.Dy()
	pages, _, err := renderPixels(img, 1)
	if err != nil {
		return nil, Meta{}, err
	}
	var vs []Encoded
	for _, e := range pages {
		if e.Name == "card" || e.Name == "thumbnail" {
			e.Name = "page1-" + e.Name
			vs = append(vs, e)
		}
	}
	return vs, meta, nil
}

// toolRefusal turns a program's failure on a file into the file's refusal; a missing program
// stays an error (the operator's to fix, and a retry after the fix succeeds).
func toolRefusal(err, refusal error) error {
	var te *toolError
	if errors.As(err, &te) {
		if te.timedOut {
			return refuse("processing the file took too long", "استغرقت معالجة الملف وقتاً طويلاً")
		}
		return refusal
	}
	return err
}
