// Package mediatest makes the media pipeline's test fixtures: a JPEG carrying GPS EXIF, a
// decompression-bomb PNG, a two-second video made by ffmpeg and a two-page PDF.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// GPSMarker is the GPS map datum ExifJPEG writes: absent from every output, or the location leaked.
const GPSMarker = "RIYADH-SECRET-SPOT"

// ExifJPEG returns a JPEG of a w×h image (left half red, right half blue) carrying an EXIF APP1
// segment with an orientation and a GPS directory whose latitude reference and a marker string
// can be searched for in the output.
func ExifJPEG(t testing.TB, w, h, orientation int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var enc bytes.Buffer
	require.NoError(t, jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}))
	// TIFF (little endian): IFD0 with Orientation and a GPS IFD pointer; the GPS IFD with
	// GPSLatitudeRef "N" and a GPSMapDatum ASCII string "RIYADH-SECRET-SPOT".
	le := binary.LittleEndian
	var t0 bytes.Buffer
	t0.WriteString("II")
	_ = binary.Write(&t0, le, uint16(42))
	_ = binary.Write(&t0, le, uint32(8))
	// IFD0 at 8: 2 entries.
	_ = binary.Write(&t0, le, uint16(2))
	entry := func(tag, typ uint16, count, value uint32) {
		_ = binary.Write(&t0, le, tag)
		_ = binary.Write(&t0, le, typ)
		_ = binary.Write(&t0, le, count)
		_ = binary.Write(&t0, le, value)
	}
	gpsIFD := uint32(8 + 2 + 2*12 + 4)
	entry(0x0112, 3, 1, uint32(orientation))
	entry(0x8825, 4, 1, gpsIFD)
	_ = binary.Write(&t0, le, uint32(0))
	datum := GPSMarker + "\x00"
	datumOff := gpsIFD + 2 + 2*12 + 4
	_ = binary.Write(&t0, le, uint16(2))
	entry(0x0001, 2, 2, uint32('N'))
	entry(0x0012, 2, uint32(len(datum)), datumOff)
	_ = binary.Write(&t0, le, uint32(0))
	t0.WriteString(datum)
	app1 := append([]byte("Exif\x00\x00"), t0.Bytes()...)
	var out bytes.Buffer
	out.Write(enc.Bytes()[:2])
	out.Write([]byte{0xFF, 0xE1})
	_ = binary.Write(&out, binary.BigEndian, uint16(len(app1)+2))
	out.Write(app1)
	out.Write(enc.Bytes()[2:])
	return out.Bytes()
}

// BombPNG is a PNG whose header declares w×h pixels and which holds no pixel data.
func BombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.WriteString("IHDR")
	b.Write(ihdr)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("IHDR"), ihdr...)))
	return b.Bytes()
}

// RequireTool fails the test when the program name is not on PATH (the media tools are part of
// the project's services: scripts/services.sh installs them).
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: run scripts/services.sh (ensure_media_tools)", name)
	}
}

// Video makes a 2-second 320×240 clip with ffmpeg's test pattern.
func Video(t testing.TB, ext string) string {
	t.Helper()
	return video(t, ext)
}

// Location is the ISO 6709 position VideoWithLocation records, as a phone does.
const Location = "+24.7136+046.6753/"

// VideoWithLocation is Video as a phone's QuickTime movie (.mov, video/quicktime) with the
// metadata a phone writes: where it was filmed (Location, as text in the ©xyz atom) and a title
// holding GPSMarker.
func VideoWithLocation(t testing.TB) string {
	t.Helper()
	path := video(t, "mov", "-metadata", "location="+Location, "-metadata", "title="+GPSMarker)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Contains(b, []byte(Location)), "ffmpeg wrote no location")
	require.True(t, bytes.Contains(b, []byte(GPSMarker)), "ffmpeg wrote no title")
	return path
}

func video(t testing.TB, ext string, extra ...string) string {
	t.Helper()
	RequireTool(t, "ffmpeg")
	path := filepath.Join(t.TempDir(), "clip."+ext)
	args := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10"}
	if ext == "webm" {
		args = append(args, "-c:v", "libvpx", "-b:v", "200k")
	} else {
		args = append(args, "-pix_fmt", "yuv420p")
	}
	args = append(args, extra...)
	out, err := exec.Command("ffmpeg", append(args, path)...).CombinedOutput()
	require.NoError(t, err, string(out))
	return path
}

// PDF writes a two-page PDF (hand-written objects; poppler rebuilds the cross-reference
// table it lacks, as it does for many real files).
func PDF(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Contents 5 0 R >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] >>",
		"<< /Length 35 >>\nstream\n0 0 1 rg 50 50 200 300 re f\nendstream",
	}
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		b.WriteString(strings.Join([]string{strconv.Itoa(i + 1), " 0 obj\n", o, "\nendobj\n"}, ""))
	}
	xref := b.Len()
	b.WriteString("xref\n0 " + strconv.Itoa(len(objs)+1) + "\n0000000000 65535 f \n")
	for _, off := range offsets {
		s := strconv.Itoa(off)
		b.WriteString(strings.Repeat("0", 10-len(s)) + s + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size " + strconv.Itoa(len(objs)+1) + " /Root 1 0 R >>\nstartxref\n" + strconv.Itoa(xref) + "\n%%EOF\n")
	path := filepath.Join(t.TempDir(), "doc.pdf")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}
