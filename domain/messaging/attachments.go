package messaging

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
)

// MaxAttachmentBytes is the largest file a message may carry.
const MaxAttachmentBytes = 10 << 20

// Files stores attachment content: platform/blob.
type Files interface {
	Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (int64, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// allowed maps a sniffed content type to the extensions a file of that type may carry. Office
// documents are zip archives to the sniffer, so their extension decides among them.
var allowed = map[string][]string{
	"image/jpeg":      {".jpg", ".jpeg"},
	"image/png":       {".png"},
	"image/gif":       {".gif"},
	"image/webp":      {".webp"},
	"application/pdf": {".pdf"},
	"text/plain":      {".txt", ".csv", ".md", ".log"},
	"application/zip": {".zip", ".docx", ".xlsx", ".pptx"},
}

var officeTypes = map[string]string{
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".csv":  "text/csv",
}

// cleanName keeps a file name people can read and nothing that could be a path.
func cleanName(name string) (string, error) {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if name == "" || name == "." || name == "/" {
		return "", errs.Fields(errs.FieldError{Field: "file", Message: "needs a file name"})
	}
	if utf8.RuneCountInString(name) > 200 {
		r := []rune(name)
		name = string(r[len(r)-200:])
	}
	return name, nil
}

// Upload stores a file for a later message of the conversation. The type comes from the bytes,
// not from what the client says; the name's extension must agree with it.
func (s *Service) Upload(ctx context.Context, p identity.Principal, conversationID, name string, r io.Reader) (Attachment, error) {
	if s.d.Files == nil {
		return Attachment{}, errs.E(errs.Unavailable, "attachments are not available")
	}
	if err := requireVerified(p); err != nil {
		return Attachment{}, err
	}
	if _, err := s.Conversation(ctx, p, conversationID); err != nil {
		return Attachment{}, err
	}
	name, err := cleanName(name)
	if err != nil {
		return Attachment{}, err
	}
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Attachment{}, fmt.Errorf("reading the upload: %w", err)
	}
	if len(head) == 0 {
		return Attachment{}, errs.Fields(errs.FieldError{Field: "file", Message: "is empty"})
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	ext := strings.ToLower(path.Ext(name))
	exts, ok := allowed[sniffed]
	if !ok || !slices.Contains(exts, ext) {
		return Attachment{}, errs.E(errs.Unsupported,
			"send images (jpeg, png, gif, webp), PDF, text or CSV, Office documents (docx, xlsx, pptx) or zip files with a matching extension")
	}
	contentType := sniffed
	if t, ok := officeTypes[ext]; ok {
		contentType = t
	}
	rec := AttachmentRecord{ID: ids.New(), ConversationID: conversationID, UploaderID: p.UserID, Name: name,
		ContentType: contentType, CreatedAt: s.now()}
	rec.Key = "attachments/" + conversationID + "/" + rec.ID
	// One byte over the limit is enough to know; the store then holds nothing of it.
	n, err := s.d.Files.Put(ctx, rec.Key, io.LimitReader(br, MaxAttachmentBytes+1), contentType, 0)
	if err != nil {
		return Attachment{}, fmt.Errorf("storing the attachment: %w", err)
	}
	if n > MaxAttachmentBytes {
		_ = s.d.Files.Delete(context.WithoutCancel(ctx), rec.Key)
		return Attachment{}, errs.E(errs.TooLarge, "attachments are at most %d MB", MaxAttachmentBytes>>20)
	}
	rec.Size = n
	if err := s.d.Store.AddAttachment(ctx, rec); err != nil {
		_ = s.d.Files.Delete(context.WithoutCancel(ctx), rec.Key)
		return Attachment{}, err
	}
	return attachmentOf(rec), nil
}

func attachmentOf(r AttachmentRecord) Attachment {
	return Attachment{ID: r.ID, Name: r.Name, ContentType: r.ContentType, Size: r.Size,
		URL: "/api/v1/conversations/" + r.ConversationID + "/attachments/" + r.ID}
}

// OpenAttachment returns an attachment's content for a participant of its conversation.
func (s *Service) OpenAttachment(ctx context.Context, p identity.Principal, conversationID, id string) (Attachment, io.ReadCloser, error) {
	if s.d.Files == nil || !ids.Valid(id) {
		return Attachment{}, nil, errs.E(errs.NotFound, "no such attachment")
	}
	if _, err := s.Conversation(ctx, p, conversationID); err != nil {
		return Attachment{}, nil, err
	}
	rec, err := s.d.Store.Attachment(ctx, conversationID, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	// An upload not yet on a message is its uploader's alone.
	if rec.MessageID == nil && rec.UploaderID != p.UserID {
		return Attachment{}, nil, errs.E(errs.NotFound, "no such attachment")
	}
	rc, err := s.d.Files.Open(ctx, rec.Key)
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("opening attachment %s: %w", id, err)
	}
	return attachmentOf(rec), rc, nil
}
