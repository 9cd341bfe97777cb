package media

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
)

// Other areas keep direct uploads with their content (a use case's images, say): they attach
// the files in the request that saves the content, release the ones it no longer lists, and show
// the attached ones to whoever may read the content. Release leaves a file unattached, so the
// sweep removes it like an upload never used; content that goes away takes its files with it
// after the retention window (ReleaseGone).

// AttachAll attaches each of fileIDs, uploads of p of one of kinds, to the target (again to the same target is a
// no-op). The answer names the first file that cannot be attached, by its index in field (a
// missing or someone else's file, one not ready, one of another kind, one attached elsewhere):
// the caller's request is then refused as a whole. Files attached before that one stay attached
// to the target; the caller's save fails, and the next save or the retention sweep settles them.
func (s *Service) AttachAll(ctx context.Context, p identity.Principal, kinds []Kind, targetType, targetID, field string, fileIDs []string) error {
	u, err := s.uploads()
	if err != nil {
		return err
	}
	for i, id := range fileIDs {
		at := fmt.Sprintf("%s[%d]", field, i)
		f, err := s.ownUpload(ctx, u, p, id)
		if errs.CodeOf(err) == errs.NotFound {
			return errs.Fields(errs.FieldError{Field: at, Message: "no such file of yours"})
		}
		if err != nil {
			return err
		}
		if !slices.Contains(kinds, f.Kind) {
			return errs.Fields(errs.FieldError{Field: at, Message: fmt.Sprintf("must be an uploaded %s, not a %s", kinds[0], f.Kind)})
		}
		if _, err := u.Store.Attach(ctx, id, p.UserID, targetType, targetID); err != nil {
			if e, ok := errs.As(err); ok && (e.Code == errs.Conflict || e.Code == errs.NotFound) {
				return errs.Fields(errs.FieldError{Field: at, Message: e.Message})
			}
			return err
		}
	}
	return nil
}

// Release detaches the target's files that keep does not list; the sweep then removes them.
func (s *Service) Release(ctx context.Context, targetType, targetID string, keep []string) error {
	u, err := s.uploads()
	if err != nil {
		return err
	}
	return u.Store.Release(ctx, targetType, targetID, keep)
}

// Shown is a ready file attached to content, for its readers: the signed URL of each variant
// that was asked for, by name: the WebP of each image size, poster, preview and page, and the
// original as a download under the file's name.
type Shown struct {
	ID              string            `json:"id"`
	Kind            Kind              `json:"kind"`
	Name            string            `json:"name"`
	ContentType     string            `json:"contentType"`
	Size            int64             `json:"size"`
	Width           int               `json:"width,omitempty"`
	Height          int               `json:"height,omitempty"`
	DurationSeconds float64           `json:"durationSeconds,omitempty"`
	Pages           int               `json:"pages,omitempty"`
	URLs            map[string]string `json:"urls"`
}

// ShowAttached returns the ready files among fileIDs that are attached to content of targetType,
// keyed by id, each with signed URLs of the named variants. The caller has checked that the
// reader may see the content; files attached elsewhere, released or gone are left out.
func (s *Service) ShowAttached(ctx context.Context, targetType string, fileIDs []string, variants ...string) (map[string]Shown, error) {
	u, err := s.uploads()
	fileIDs = slices.DeleteFunc(slices.Clone(fileIDs), func(id string) bool { return !ids.Valid(id) })
	if err != nil || len(fileIDs) == 0 {
		return map[string]Shown{}, nil
	}
	files, err := u.Store.Attached(ctx, targetType, fileIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Shown, len(files))
	for _, f := range files {
		sh, err := s.show(ctx, u, f, variants)
		if err != nil {
			return nil, err
		}
		out[f.ID] = sh
	}
	return out, nil
}

// ShowAttachedTo returns the ready files attached to one piece of content, in the order they
// were attached, each with signed URLs of the named variants.
func (s *Service) ShowAttachedTo(ctx context.Context, targetType, targetID string, variants ...string) ([]Shown, error) {
	u, err := s.uploads()
	if err != nil || !ids.Valid(targetID) {
		return []Shown{}, nil
	}
	files, err := u.Store.AttachedTo(ctx, targetType, targetID)
	if err != nil {
		return nil, err
	}
	out := make([]Shown, 0, len(files))
	for _, f := range files {
		sh, err := s.show(ctx, u, f, variants)
		if err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, nil
}

// show signs the named variants of f (the WebP of a picture, the original as a download).
func (s *Service) show(ctx context.Context, u *Uploads, f File, variants []string) (Shown, error) {
	sh := Shown{ID: f.ID, Kind: f.Kind, Name: f.Name, ContentType: f.ContentType, Size: f.Size,
		URLs: make(map[string]string, len(variants))}
	if f.Meta != nil {
		sh.Width, sh.Height, sh.DurationSeconds, sh.Pages = f.Meta.Width, f.Meta.Height, f.Meta.DurationSeconds, f.Meta.Pages
	}
	for _, v := range f.Variants {
		original := v.Name == "original"
		if !slices.Contains(variants, v.Name) || (!original && v.Format != "webp") {
			continue
		}
		filename := ""
		if original {
			filename = downloadName(f.Name, f.ContentType)
		}
		g, err := u.Signer.PresignGet(ctx, v.Key, u.Limits.URLTTL, filename)
		if err != nil {
			return Shown{}, fmt.Errorf("media: signing %s of file %s: %w", v.Name, f.ID, err)
		}
		sh.URLs[v.Name] = g.URL
	}
	return sh, nil
}

// MaxEmbedded bounds the bytes ReadAttached returns: a card-sized image is some 100 kB.
const MaxEmbedded = 4 << 20

// ReadAttached reads the named variant (WebP) of a ready file attached to content of
// targetType, for a document made on the server (an export) that embeds it. The caller has
// checked that the document's reader may see the content.
func (s *Service) ReadAttached(ctx context.Context, targetType, fileID, variant string) ([]byte, string, error) {
	u, err := s.uploads()
	if err != nil {
		return nil, "", err
	}
	if !ids.Valid(fileID) {
		return nil, "", errs.E(errs.NotFound, "no file with this id")
	}
	files, err := u.Store.Attached(ctx, targetType, []string{fileID})
	if err != nil {
		return nil, "", err
	}
	for _, f := range files {
		for _, v := range f.Variants {
			if v.Name != variant || v.Format != "webp" {
				continue
			}
			rc, err := u.Storage.Open(ctx, v.Key)
			if err != nil {
				return nil, "", fmt.Errorf("media: reading %s of file %s: %w", variant, fileID, err)
			}
			defer rc.Close()
			b, err := io.ReadAll(io.LimitReader(rc, MaxEmbedded+1))
			if err != nil {
				return nil, "", fmt.Errorf("media: reading %s of file %s: %w", variant, fileID, err)
			}
			if len(b) > MaxEmbedded {
				return nil, "", errs.E(errs.TooLarge, "the image is too large to embed")
			}
			return b, v.ContentType, nil
		}
	}
	return nil, "", errs.E(errs.NotFound, "no file with this id")
}
