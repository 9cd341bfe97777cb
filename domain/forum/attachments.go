package forum

import (
	"context"
	"errors"
	"slices"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
)

// MaxAttachments is how many files one topic carries.
const MaxAttachments = 10

// Attachment is a file attached to a topic (an image, a video or a PDF uploaded by its author),
// as its readers get it: signed, short-lived URLs.
type Attachment struct {
	ID              string  `json:"id"`
	Type            string  `json:"type"` // image, video or document
	Name            string  `json:"name"` // the name it was uploaded under
	ContentType     string  `json:"contentType"`
	Size            int64   `json:"size"`
	Width           int     `json:"width,omitempty"`
	Height          int     `json:"height,omitempty"`
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	Pages           int     `json:"pages,omitempty"`
	// URL is the file itself: an image at its hero size, or the original video or PDF as a
	// download under its name.
	URL string `json:"url"`
	// ThumbnailURL is an image's thumbnail, a video's poster or a PDF's first page.
	ThumbnailURL string `json:"thumbnailUrl"`
}

// Attachments keeps the files of topics (domain/media behind it): attached when a save lists
// them, released when an edit stops listing them, shown with the topic.
type Attachments interface {
	// Attach attaches the uploads ids of p to the topic; a file that cannot be is a validation
	// error on attachmentIds[i].
	Attach(ctx context.Context, p identity.Principal, topicID string, ids []string) error
	// Release detaches the topic's files that keep does not list.
	Release(ctx context.Context, topicID string, keep []string) error
	// Of lists the topic's ready files in the order they were attached.
	Of(ctx context.Context, topicID string) ([]Attachment, error)
}

// checkAttachments checks a list of attachment ids before anything is attached.
func checkAttachments(list []string) []errs.FieldError {
	return ids.CheckList("attachmentIds", list, MaxAttachments)
}

// attach attaches the files of next that had does not hold; on failure it releases what it
// attached, so the topic keeps had.
func (s *Service) attach(ctx context.Context, p identity.Principal, topicID string, had, next []string) error {
	added := slices.DeleteFunc(slices.Clone(next), func(x string) bool { return slices.Contains(had, x) })
	if len(added) == 0 {
		return nil
	}
	if s.files == nil {
		return errs.Fields(errs.FieldError{Field: "attachmentIds", Message: "attachments are not enabled on this server"})
	}
	if err := s.files.Attach(ctx, p, topicID, added); err != nil {
		return s.unattach(ctx, topicID, had, err)
	}
	return nil
}

// unattach undoes attach after a failed save (cause).
func (s *Service) unattach(ctx context.Context, topicID string, had []string, cause error) error {
	if s.files == nil {
		return cause
	}
	if err := s.files.Release(context.WithoutCancel(ctx), topicID, had); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// ids of attachments, in order.
func attachmentIDs(list []Attachment) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.ID
	}
	return out
}
