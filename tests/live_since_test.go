package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/dockertest"
)

// TestLiveStartsAtOpen: a live source delivers what happens from
// plugin_open on, never the daemon's stored history (it keeps its last 256
// events and replays them to a client that asks since=<earlier>). Against
// the real daemon: a container is created and removed just before open,
// another just after; only the second one's events arrive. Other tests and
// engineers use the same daemon at once, so the plugin state filters on
// this test's own label (the daemon applies the filter to its replay too).
func TestLiveStartsAtOpen(t *testing.T) {
	needDocker(t)
	img := dockertest.Image(t)
	nonce := dockertest.Nonce()
	dockertest.Cleanup(t, nonce)
	label := dockertest.Label + "=" + nonce
	before, after := "fdp-before-"+nonce, "fdp-after-"+nonce

	dockertest.Docker(t, "create", "--name", before, "--label", label, img)
	dockertest.Docker(t, "rm", before)
	opened := uint64(time.Now().UnixNano())
	r := newLiveReader(t, fmt.Sprintf(`{"filters":{"label":[%q]},"logLevel":"error"}`, label), "")
	r.waitConnected()
	cid := dockertest.Docker(t, "create", "--name", after, "--label", label, img)
	dockertest.Docker(t, "rm", after)

	r.until("the second container's destroy", time.Minute, func() bool {
		return r.has(func(e liveEvent) bool {
			return e.str("docker.container.id") == cid && e.str("docker.action.name") == "destroy"
		})
	})
	var seq []string
	for _, e := range r.evts {
		if name := e.str("docker.container.name"); name != after {
			t.Errorf("an event from before plugin_open was delivered (%s, ts %d, open at %d): %s", name, e.ts, opened, e.payload)
			continue
		}
		if e.ts < opened {
			t.Errorf("event ts %d is before plugin_open (%d): %s", e.ts, opened, e.payload)
		}
		seq = append(seq, e.str("docker.action.name"))
	}
	if fmt.Sprint(seq) != "[create destroy]" {
		t.Errorf("events of the container made after open: %v, want [create destroy]", seq)
	}
}
