// Package media holds the rules of uploaded images (avatars and organization logos): what is
// accepted, how an upload is checked before anything is stored, and how a worker turns the
// original into the 256×256 image that is served.
//
// An upload goes through three states. Upload checks the bytes (type sniffed from the content,
// size, dimensions read from the header alone), stores the original, records a pending file and
// enqueues its processing. Process, run by a worker, decodes the original, crops it to a centred
// square, scales it, encodes it (JPEG, or PNG when the image has transparency), stores it, points
// the user's avatar or the organization's logo at it and deletes the original and the image it
// replaces: the file is ready. Any refusal on the way marks it failed with a message for people
// and removes what was stored.
package media

import (
	"context"
	"errors"
	"io"
	"time"
)

// Kind is what an image is for.
type Kind string

// Kinds.
const (
	Avatar Kind = "avatar" // a user's picture
	Logo   Kind = "logo"   // an organization's logo
)

// Status is where a file is in its processing.
type Status string

// Statuses.
const (
	Pending Status = "pending"
	Ready   Status = "ready"
	Failed  Status = "failed"
)

// Limits of an upload and the size of what is served.
const (
	MaxBytes   = 5 << 20    // largest accepted upload
	MaxSide    = 6000       // widest or tallest accepted image, in pixels
	MaxPixels  = 25_000_000 // largest accepted area: a decoded image costs about 4 bytes a pixel
	OutputSide = 256        // the processed image is OutputSide×OutputSide
)

// File is an uploaded image. Its JSON is what GET /files/{id} answers.
type File struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organizationId"`
	OwnerUserID    string `json:"ownerUserId"` // who uploaded it
	Kind           Kind   `json:"kind"`
	Status         Status `json:"status"`
	// Error says, for people, why a failed file was refused.
	Error string `json:"error,omitempty"`
	// URL is where a ready image is served; nil until then.
	URL *string `json:"url"`
	// Key is the storage key: the original while pending, the processed image once ready.
	Key         string    `json:"-"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`

	// Direct uploads (kinds image, video and document) only.
	Name string `json:"name,omitempty"`
	// ErrorAr is Error in Arabic.
	ErrorAr  string    `json:"errorAr,omitempty"`
	Variants []Variant `json:"variants,omitempty"`
	Meta     *Meta     `json:"meta,omitempty"`
	// AttachedType and AttachedID name the content the file was attached to (Claim).
	AttachedType string     `json:"attachedType,omitempty"`
	AttachedID   string     `json:"attachedId,omitempty"`
	AttachedAt   *time.Time `json:"attachedAt,omitempty"`
}

// Slot is the place one current image fills: a user's avatar or an organization's logo.
type Slot struct {
	Kind  Kind
	Owner string // the user's id for an avatar, the organization's for a logo
}

// SlotOf returns the slot f is for.
func SlotOf(f File) Slot {
	if f.Kind == Logo {
		return Slot{Kind: Logo, Owner: f.OrganizationID}
	}
	return Slot{Kind: Avatar, Owner: f.OwnerUserID}
}

// Errors of Store.Finish.
var (
	// ErrNotPending: the file was cancelled or failed while it was being processed.
	ErrNotPending = errors.New("media: the file is no longer pending")
	// ErrSuperseded: a newer upload for the same slot became current first.
	ErrSuperseded = errors.New("media: a newer image is already current")
)

// Store keeps the file rows. mediadb implements it on PostgreSQL.
type Store interface {
	Create(ctx context.Context, f File) error
	// Get returns a file by id (an *errs.Error with code NotFound when there is none).
	Get(ctx context.Context, id string) (File, error)
	// Delete removes a row (an upload whose processing could not be enqueued).
	Delete(ctx context.Context, id string) error
	// Fail marks a pending file failed with message; a file no longer pending is left alone.
	Fail(ctx context.Context, id, message string) error
	// Finish makes a pending file its slot's current image. Holding the slot's lock, it records
	// the processed key, type and size, deletes the rows of the slot's older images and runs
	// publish; an error from publish undoes it all. It returns the keys of the images it replaced,
	// or ErrNotPending or ErrSuperseded.
	Finish(ctx context.Context, id, key, contentType string, size int64, publish func(context.Context) error) (replaced []string, err error)
	// Clear empties a slot. Holding the slot's lock, it marks pending uploads failed with message,
	// deletes the ready images' rows and runs unpublish. It returns the deleted images' keys.
	Clear(ctx context.Context, slot Slot, message string, unpublish func(context.Context) error) (removed []string, err error)
	// StorageUsed is the size of the organization's stored files (pending and ready).
	StorageUsed(ctx context.Context, orgID string) (int64, error)
}

// UploadStore keeps the rows of direct uploads. mediadb implements it on PostgreSQL.
type UploadStore interface {
	// Create and Get as in Store.
	Create(ctx context.Context, f File) error
	Get(ctx context.Context, id string) (File, error)
	// MarkPending moves an uploading file to pending; false when it was not uploading.
	MarkPending(ctx context.Context, id string) (bool, error)
	// FailUpload marks an uploading or pending file failed with reason (size 0: nothing stays
	// stored); false when it was neither.
	FailUpload(ctx context.Context, id string, reason Reason) (bool, error)
	// FinishUpload marks a pending file ready with its variants, what was learnt and the bytes
	// stored; ErrNotPending when it is not pending.
	FinishUpload(ctx context.Context, id string, variants []Variant, meta Meta, size int64) error
	// Attach records that a ready file of owner belongs to target; attaching it again to the same
	// target is a no-op. NotFound for another owner's or a missing file, Conflict for a file not
	// ready or attached elsewhere.
	Attach(ctx context.Context, id, ownerUserID, targetType, targetID string) (File, error)
	// Release detaches the files attached to target that keep does not list.
	Release(ctx context.Context, targetType, targetID string, keep []string) error
	// Forget marks the files attached to target gone at (once: a later call keeps the first time).
	Forget(ctx context.Context, targetType, targetID string, at time.Time) error
	// SweepGone deletes up to limit files marked gone before `before`, and returns them.
	SweepGone(ctx context.Context, before time.Time, limit int) ([]File, error)
	// AttachedTo returns the ready files attached to target, in the order they were attached.
	AttachedTo(ctx context.Context, targetType, targetID string) ([]File, error)
	// Attached returns the ready files among ids attached to content of targetType.
	Attached(ctx context.Context, targetType string, ids []string) ([]File, error)
	// SweepUnattached deletes up to limit direct uploads created before `before` and attached to
	// nothing, and returns them (their keys are to be deleted from storage).
	SweepUnattached(ctx context.Context, before time.Time, limit int) ([]File, error)
}

// Storage keeps the bytes (platform/blob implements it). A missing object is reported with an
// error for which errors.Is(err, fs.ErrNotExist) holds.
type Storage interface {
	Put(ctx context.Context, key string, r io.Reader, contentType string, maxSize int64) (int64, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
}

// StatStorage is Storage that can also describe an object (verifying a direct upload).
type StatStorage interface {
	Storage
	// Stat returns the object's size (fs.ErrNotExist when there is none).
	StatSize(ctx context.Context, key string) (int64, error)
}

// Queue runs the processing of an uploaded file in the background (workers implements it).
type Queue interface {
	EnqueueImage(ctx context.Context, fileID string) error
}

// Publisher records where the current avatar and logo are (identity.Service implements it); a
// nil url removes the picture.
type Publisher interface {
	SetAvatar(ctx context.Context, userID string, url *string) error
	SetLogo(ctx context.Context, orgID string, url *string) error
}
