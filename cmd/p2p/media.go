package main

import (
	"strings"

	"github.com/hibiken/asynq"

	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/workers"
)

// newMedia builds the media service on the blob directory. Processed images are served by the
// API itself at <app.api_domain>/media/<key>; the caller closes the storage.
func (a *app) newMedia(d deps, pub media.Publisher) (*media.Service, *blob.Disk, error) {
	disk, err := blob.NewDisk(a.cfg.Blob.Dir)
	if err != nil {
		return nil, nil, err
	}
	svc := media.NewService(mediadb.New(d.pool), disk,
		workers.ImageQueue{Client: asynq.NewClientFromRedisClient(d.rdb), Queue: a.cfg.Worker.Queue},
		pub, media.Config{BaseURL: strings.TrimSuffix(a.cfg.App.APIDomain, "/") + "/media/"})
	return svc, disk, nil
}
