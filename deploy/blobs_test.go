package deploy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHubsAndWorkerShareTheBlobVolume: a hub stores the original of an upload and the worker
// processes it, so both must see the same blob directory, and the image must let the non-root
// user write there.
func TestHubsAndWorkerShareTheBlobVolume(t *testing.T) {
	p := loadProject(t)
	for _, name := range []string{"hub1", "hub2", "worker"} {
		svc := p.Services[name]
		dir := svc.Environment["P2P_BLOB_DIR"]
		if assert.NotNil(t, dir, "%s sets P2P_BLOB_DIR", name) {
			assert.Equal(t, "/var/lib/p2p/blobs", *dir, name)
		}
		var mounted bool
		for _, v := range svc.Volumes {
			mounted = mounted || (v.Type == "volume" && v.Source == "blobs" && v.Target == "/var/lib/p2p/blobs")
		}
		assert.True(t, mounted, "%s mounts the blobs volume at P2P_BLOB_DIR", name)
	}
	assert.Contains(t, p.Volumes, "blobs")

	dockerfile, err := os.ReadFile("../Dockerfile")
	assert.NoError(t, err)
	assert.True(t, strings.Contains(string(dockerfile), "--chown=nonroot:nonroot /out/blobs /var/lib/p2p/blobs"),
		"the image creates the blob directory for the non-root user")
}
