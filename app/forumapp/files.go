package forumapp

import (
	"context"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/media"
)

// AttachedType names topics among the files' attachments (files.attached_type).
const AttachedType = "forum_topic"

// FilesSubscriber is the durable subscriber that hands a removed topic's files to the media
// sweep (its cursor in domain_event_cursors).
const FilesSubscriber = "forum-files"

// attachable are the kinds of upload a topic carries: pictures of the line, a short video, a PDF.
var attachable = []media.Kind{media.KindImage, media.KindVideo, media.KindDocument}

// attachments keeps topics' files as direct uploads of the media area (forum.Attachments).
type attachments struct{ media *media.Service }

func (a attachments) Attach(ctx context.Context, p identity.Principal, topicID string, ids []string) error {
	return a.media.AttachAll(ctx, p, attachable, AttachedType, topicID, "attachmentIds", ids)
}

func (a attachments) Release(ctx context.Context, topicID string, keep []string) error {
	return a.media.Release(ctx, AttachedType, topicID, keep)
}

func (a attachments) Of(ctx context.Context, topicID string) ([]forum.Attachment, error) {
	shown, err := a.media.ShowAttachedTo(ctx, AttachedType, topicID,
		"hero", "thumbnail", "original", "poster", "page1-thumbnail")
	if err != nil {
		return nil, err
	}
	out := make([]forum.Attachment, len(shown))
	for i, s := range shown {
		at := forum.Attachment{ID: s.ID, Type: string(s.Kind), Name: s.Name, ContentType: s.ContentType, Size: s.Size,
			Width: s.Width, Height: s.Height, DurationSeconds: s.DurationSeconds, Pages: s.Pages}
		switch s.Kind {
		case media.KindImage:
			at.URL, at.ThumbnailURL = s.URLs["hero"], s.URLs["thumbnail"]
		case media.KindVideo:
			at.URL, at.ThumbnailURL = s.URLs["original"], s.URLs["poster"]
		default:
			at.URL, at.ThumbnailURL = s.URLs["original"], s.URLs["page1-thumbnail"]
		}
		out[i] = at
	}
	return out, nil
}

// forgetFiles marks the files of each removed topic (deleted by its author or hidden by a
// moderator) gone: the media sweep deletes them after media.retention.
func forgetFiles(bus *events.Bus, files *media.Service) {
	sub := bus.Subscribe(FilesSubscriber, events.Options{})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[forum.PostRemoved]) error {
		for _, r := range batch {
			if r.Event.TargetType != "topic" {
				continue
			}
			if err := files.Forget(ctx, AttachedType, r.Event.ID, r.At); err != nil {
				return err
			}
		}
		return nil
	})
}
