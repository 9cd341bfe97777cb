package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
)

// Config configures a Service.
type Config struct {
	// BaseURL prefixes the key of a processed image to make its public URL
	// ("https://api.example.com/media/").
	BaseURL string
	// Concurrency is how many images one service processes (or slots it clears) at once. A
	// decoded 25-megapixel image takes about 100 MB, and finishing holds one database connection
	// while publishing takes another, so this stays small whatever the worker's concurrency.
	Concurrency int
}

// Service holds the upload rules and the processing.
type Service struct {
	store   Store
	storage Storage
	queue   Queue
	pub     Publisher
	baseURL string
	slots   chan struct{}
	now     func() time.Time
	up      *Uploads // nil until EnableUploads
}

// NewService returns a service. queue may be nil in a process that only processes (a worker).
func NewService(store Store, storage Storage, queue Queue, pub Publisher, cfg Config) *Service {
	n := cfg.Concurrency
	if n < 1 {
		n = 2
	}
	return &Service{store: store, storage: storage, queue: queue, pub: pub,
		baseURL: cfg.BaseURL, slots: make(chan struct{}, n), now: time.Now}
}

// Public reports whether key names a processed image, the only objects served to the public.
// Originals are unchecked uploads and are never served.
func Public(key string) bool {
	return strings.HasPrefix(key, "avatars/") || strings.HasPrefix(key, "logos/")
}

func originalKey(f File) string { return "originals/" + f.OrganizationID + "/" + f.ID }

func processedKey(f File, ext string) string {
	return string(f.Kind) + "s/" + f.OrganizationID + "/" + f.ID + ext
}

// processedKeys are every key processing may have written for f (one per output format).
func processedKeys(f File) []string {
	return []string{processedKey(f, ".jpg"), processedKey(f, ".png")}
}

// view fills in what a file shows that is not stored.
func (s *Service) view(f File) File {
	if f.Status == Ready {
		u := s.baseURL + f.Key
		f.URL = &u
	}
	return f
}

// Upload checks an image and queues its processing. Nothing is stored for an upload that breaks
// a rule: too large (TooLarge), not a JPEG, PNG or WebP by its content (Unsupported), empty,
// damaged or too many pixels (Validation).
func (s *Service) Upload(ctx context.Context, p identity.Principal, kind Kind, r io.Reader) (File, error) {
	if kind != Avatar && kind != Logo {
		return File{}, fmt.Errorf("media: unknown kind %q", kind)
	}
	b, err := ReadUpload(r)
	if err != nil {
		return File{}, err
	}
	img, err := Inspect(b)
	if err != nil {
		return File{}, err
	}
	now := s.now().UTC()
	f := File{
		ID:             ids.New(),
		OrganizationID: p.OrganizationID,
		OwnerUserID:    p.UserID,
		Kind:           kind,
		Status:         Pending,
		ContentType:    img.ContentType,
		Size:           int64(len(b)),
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	f.Key = originalKey(f)
	if _, err := s.storage.Put(ctx, f.Key, bytes.NewReader(b), f.ContentType, MaxBytes); err != nil {
		return File{}, fmt.Errorf("media: storing the original: %w", err)
	}
	// From here a failure removes what was stored, even if the request was cancelled.
	cleanup := context.WithoutCancel(ctx)
	if err := s.store.Create(ctx, f); err != nil {
		return File{}, errors.Join(fmt.Errorf("media: recording the upload: %w", err), s.storage.Delete(cleanup, f.Key))
	}
	if err := s.queue.EnqueueImage(ctx, f.ID); err != nil {
		cause := errors.Join(err, s.store.Delete(cleanup, f.ID), s.storage.Delete(cleanup, f.Key))
		return File{}, &errs.Error{Code: errs.Unavailable, Err: cause,
			Message: "the image could not be queued for processing; try again in a moment"}
	}
	return s.view(f), nil
}

// File returns one of the principal's organization's files; another organization's is NotFound.
func (s *Service) File(ctx context.Context, p identity.Principal, id string) (File, error) {
	notFound := errs.E(errs.NotFound, "no file with this id")
	if !ids.Valid(id) {
		return File{}, notFound
	}
	f, err := s.store.Get(ctx, id)
	if errs.CodeOf(err) == errs.NotFound || (err == nil && f.OrganizationID != p.OrganizationID) {
		return File{}, notFound
	}
	if err != nil {
		return File{}, err
	}
	if IsUpload(f.Kind) {
		// A direct upload is its owner's until it is attached to content, which shows it.
		if f.OwnerUserID != p.UserID || s.up == nil {
			return File{}, notFound
		}
		return s.viewUpload(ctx, s.up, f), nil
	}
	return s.view(f), nil
}

// Remove deletes the principal's avatar or their organization's logo and cancels uploads of it
// still being processed. Removing what is not there is not an error.
func (s *Service) Remove(ctx context.Context, p identity.Principal, kind Kind) error {
	var slot Slot
	switch kind {
	case Avatar:
		slot = Slot{Kind: Avatar, Owner: p.UserID}
	case Logo:
		slot = Slot{Kind: Logo, Owner: p.OrganizationID}
	default:
		return fmt.Errorf("media: unknown kind %q", kind)
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	keys, err := s.store.Clear(ctx, slot, fmt.Sprintf("cancelled: the %s was removed", kind),
		func(ctx context.Context) error { return s.publish(ctx, slot, nil) })
	if err != nil {
		return err
	}
	return s.deleteAll(context.WithoutCancel(ctx), keys...)
}

// StorageUsed is the number of bytes the organization's files take in storage.
func (s *Service) StorageUsed(ctx context.Context, orgID string) (int64, error) {
	return s.store.StorageUsed(ctx, orgID)
}

// Process turns a pending upload into its served image (see the package comment). It returns nil
// when the work is done or the file was refused, and an error when trying again may succeed.
// It is safe to run again for the same file.
func (s *Service) Process(ctx context.Context, id string) error {
	f, err := s.store.Get(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		return nil // the upload was undone before it could be processed
	}
	if err != nil {
		return err
	}
	if IsUpload(f.Kind) {
		if f.Status != Pending || s.up == nil {
			return nil // processed, failed or swept already
		}
		if err := s.acquire(ctx); err != nil {
			return err
		}
		defer s.release()
		return s.processUpload(ctx, s.up, f)
	}
	switch f.Status {
	case Ready: // processed already; a crash may have kept the original
		return s.deleteAll(ctx, originalKey(f))
	case Failed:
		return s.deleteAll(ctx, append(processedKeys(f), originalKey(f))...)
	}

	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()

	b, err := s.readOriginal(ctx, f)
	if errors.Is(err, fs.ErrNotExist) {
		return s.fail(ctx, f, "the uploaded file was lost before it could be processed; upload it again")
	}
	if err != nil {
		return err
	}
	out, err := Render(b)
	if e, ok := errs.As(err); ok {
		return s.fail(ctx, f, e.Message)
	}
	if err != nil {
		return err
	}
	key := processedKey(f, out.Ext)
	n, err := s.storage.Put(ctx, key, bytes.NewReader(out.Data), out.ContentType, MaxBytes)
	if err != nil {
		return fmt.Errorf("media: storing the processed image: %w", err)
	}
	url := s.baseURL + key
	replaced, err := s.store.Finish(ctx, f.ID, key, out.ContentType, n,
		func(ctx context.Context) error { return s.publish(ctx, SlotOf(f), &url) })
	switch {
	case errors.Is(err, ErrSuperseded):
		return s.fail(ctx, f, "a newer upload replaced this image before it was ready")
	case errors.Is(err, ErrNotPending):
		return s.deleteAll(ctx, append(processedKeys(f), originalKey(f))...)
	case err != nil:
		return err
	}
	return s.deleteAll(ctx, append(replaced, originalKey(f))...)
}

// Abandon gives up on a file whose processing kept failing: it is marked failed and what was
// stored for it is removed.
func (s *Service) Abandon(ctx context.Context, id string) error {
	f, err := s.store.Get(ctx, id)
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if f.Status != Pending {
		return nil
	}
	if IsUpload(f.Kind) && s.up != nil {
		return s.failUpload(ctx, s.up, f, Reason{
			EN: "the file could not be processed; upload it again", AR: "تعذّرت معالجة الملف؛ ارفعه مرة أخرى"})
	}
	return s.fail(ctx, f, "the image could not be processed; upload it again")
}

// fail marks f failed with a message for people and removes the original and any output.
func (s *Service) fail(ctx context.Context, f File, message string) error {
	if err := s.store.Fail(ctx, f.ID, message); err != nil {
		return err
	}
	return s.deleteAll(ctx, append(processedKeys(f), originalKey(f))...)
}

func (s *Service) readOriginal(ctx context.Context, f File) ([]byte, error) {
	rc, err := s.storage.Open(ctx, originalKey(f))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: reading the original: %w", err)
	}
	return b, nil
}

func (s *Service) publish(ctx context.Context, slot Slot, url *string) error {
	if slot.Kind == Logo {
		return s.pub.SetLogo(ctx, slot.Owner, url)
	}
	return s.pub.SetAvatar(ctx, slot.Owner, url)
}

func (s *Service) deleteAll(ctx context.Context, keys ...string) error {
	var errList []error
	for _, k := range keys {
		if err := s.storage.Delete(ctx, k); err != nil {
			errList = append(errList, err)
		}
	}
	return errors.Join(errList...)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.slots }
