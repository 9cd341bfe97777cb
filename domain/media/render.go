package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// Rendered is a processed image.
type Rendered struct {
	Data        []byte
	ContentType string
	Ext         string // file name extension of the content type, with its dot
}

// JPEGQuality is the quality of processed photos: at 256×256 it keeps faces sharp in a few KB.
const JPEGQuality = 85

// Render turns an upload into the served image: the rules of Inspect again (the worker trusts
// nothing it did not check itself), a full decode, a centred square crop scaled to
// OutputSide×OutputSide with Catmull-Rom (sharp without ringing that shows at this size), the
// JPEG's EXIF orientation applied, and JPEG output, or PNG when the cropped image has
// transparency, which JPEG cannot carry.
func Render(b []byte) (Rendered, error) {
	if _, err := Inspect(b); err != nil {
		return Rendered{}, err
	}
	f, _ := sniff(b)
	src, err := f.decode(bytes.NewReader(b))
	if err != nil {
		return Rendered{}, invalid("the %s image could not be decoded; it may be truncated or corrupt (%v)", f.name, err)
	}

	bounds := src.Bounds()
	side := min(bounds.Dx(), bounds.Dy())
	crop := image.Rect(0, 0, side, side).Add(bounds.Min).
		Add(image.Pt((bounds.Dx()-side)/2, (bounds.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, OutputSide, OutputSide))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)

	// A centred square crop commutes with the eight EXIF orientations, so orienting the small
	// result is the same as orienting the source, and much cheaper.
	if f.contentType == "image/jpeg" {
		dst = orient(dst, jpegOrientation(b))
	}

	var out bytes.Buffer
	if opaque(src, crop) {
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: JPEGQuality}); err != nil {
			return Rendered{}, fmt.Errorf("media: encoding JPEG: %w", err)
		}
		return Rendered{Data: out.Bytes(), ContentType: "image/jpeg", Ext: ".jpg"}, nil
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, dst); err != nil {
		return Rendered{}, fmt.Errorf("media: encoding PNG: %w", err)
	}
	return Rendered{Data: out.Bytes(), ContentType: "image/png", Ext: ".png"}, nil
}

// opaque reports whether every pixel of img inside r is fully opaque. The standard library's
// image types (all that the decoders return) know it without a per-pixel interface call.
func opaque(img image.Image, r image.Rectangle) bool {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		img = s.SubImage(r)
		r = img.Bounds()
	}
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// orient returns the square img as it should be displayed given an EXIF orientation (1–8):
// cameras store the sensor's pixels and record how the phone was held.
func orient(img *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return img
	}
	n := img.Bounds().Dx()
	out := image.NewRGBA(img.Bounds())
	for y := range n {
		for x := range n {
			var sx, sy int
			switch orientation {
			case 2: // mirrored
				sx, sy = n-1-x, y
			case 3: // upside down
				sx, sy = n-1-x, n-1-y
			case 4: // mirrored upside down
				sx, sy = x, n-1-y
			case 5: // mirrored, rotated 90° counter-clockwise
				sx, sy = y, x
			case 6: // rotated 90° counter-clockwise: turn it clockwise
				sx, sy = y, n-1-x
			case 7: // mirrored, rotated 90° clockwise
				sx, sy = n-1-y, n-1-x
			case 8: // rotated 90° clockwise: turn it counter-clockwise
				sx, sy = n-1-y, x
			}
			si, di := img.PixOffset(sx, sy), out.PixOffset(x, y)
			copy(out.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return out
}

// jpegOrientation returns the EXIF orientation of a JPEG (1, the identity, when there is none or
// the metadata cannot be read: a wrong orientation is better than a refused photo). It walks the
// marker segments before the image data, finds the APP1 "Exif" segment and reads tag 0x0112 of
// its first image file directory.
func jpegOrientation(b []byte) int {
	i := 2 // after SOI
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // markers without a length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image: no metadata follows
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	entries := int64(bo.Uint16(t[ifd:]))
	for k := range entries {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		// SHORT (type 3), one value, stored in the first two bytes of the value field.
		if bo.Uint16(t[e+2:]) != 3 {
			return 1
		}
		if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}
