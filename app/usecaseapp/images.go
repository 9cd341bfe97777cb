package usecaseapp

import (
	"context"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/domain/usecase"
)

// AttachedType names use cases among the files' attachments (files.attached_type).
const AttachedType = "use_case"

// ImagesSubscriber is the durable subscriber that hands a deleted use case's images to the media
// sweep (its cursor in domain_event_cursors).
const ImagesSubscriber = "usecase-images"

// forgetImages marks the images of each deleted use case gone: the media sweep deletes them
// after media.retention. Durable, so a deletion made while no process listened still counts;
// marking twice keeps the first time.
func forgetImages(bus *events.Bus, files *media.Service) {
	sub := bus.Subscribe(ImagesSubscriber, events.Options{})
	events.On(sub, func(ctx context.Context, batch []events.Recorded[usecase.Removed]) error {
		for _, r := range batch {
			if err := files.Forget(ctx, AttachedType, r.Event.UseCaseID, r.At); err != nil {
				return err
			}
		}
		return nil
	})
}

// images keeps use cases' images as direct uploads of the media area (usecase.Images).
type images struct{ media *media.Service }

func (i images) Attach(ctx context.Context, p identity.Principal, useCaseID string, ids []string) error {
	return i.media.AttachAll(ctx, p, []media.Kind{media.KindImage}, AttachedType, useCaseID, "imageIds", ids)
}

func (i images) Release(ctx context.Context, useCaseID string, keep []string) error {
	return i.media.Release(ctx, AttachedType, useCaseID, keep)
}

func (i images) Show(ctx context.Context, ids []string, cardOnly bool) (map[string]usecase.Image, error) {
	sizes := []string{"hero", "card", "thumbnail"}
	if cardOnly {
		sizes = []string{"card"}
	}
	shown, err := i.media.ShowAttached(ctx, AttachedType, ids, sizes...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]usecase.Image, len(shown))
	for id, s := range shown {
		out[id] = usecase.Image{ID: s.ID, Name: s.Name, Width: s.Width, Height: s.Height,
			URL: s.URLs["hero"], CardURL: s.URLs["card"], ThumbnailURL: s.URLs["thumbnail"]}
	}
	return out, nil
}
