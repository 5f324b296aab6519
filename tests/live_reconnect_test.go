package tests

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/dockertest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// actions lists "<action> <actor id>" for every event read, in order.
func (r *liveReader) actions() []string {
	out := make([]string, len(r.evts))
	for k, e := range r.evts {
		out[k] = e.str("docker.action.name") + " " + e.str("docker.actor.id")
	}
	return out
}

// settle keeps polling for d, so that a late duplicate or a stray event
// would be read before the test compares.
func (r *liveReader) settle(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		r.poll()
	}
}

// cutOff waits until the plugin reports its lost connection, then checks
// that next_batch keeps answering (timeouts, no events) while it is cut off.
func (r *liveReader) cutOff() {
	r.t.Helper()
	r.until("the plugin to report the lost connection in its last error", 30*time.Second, func() bool {
		return strings.Contains(plug.LastError(r.s), "reconnecting")
	})
	for k := 0; k < 20; k++ {
		if raw, rc := plug.NextBatchRaw(r.s, r.i); rc != harness.Timeout || len(raw) != 0 {
			r.t.Fatalf("next_batch while disconnected: rc=%d with %d events, want SS_PLUGIN_TIMEOUT and none (%s)", rc, len(raw), plug.LastError(r.s))
		}
	}
	if _, s := plug.Progress(r.s, r.i); !strings.HasPrefix(s, "disconnected: ") {
		r.t.Errorf("progress while cut off: %q", s)
	}
}

// sameSequence reports got against want, both "<action> <id>" lists.
func sameSequence(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: got %d events:\n  %s\nwant exactly these %d, in this order:\n  %s",
			what, len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
	}
}

// TestLiveConnectionLossThroughABI: the plugin reads each engine of the
// matrix through a proxy the test owns. Twice, the test cuts the proxy (the
// plugin's stream ends and its reconnections fail), makes containers while
// the plugin is cut off, and restores the proxy: every event arrives
// exactly once and in order; the ones made during the cut come from
// since=<newest event - 2 s>, and the events of that window the daemon
// replays are dropped as duplicates. On Podman this covers its float since
// and its late, out-of-order delivery.
func TestLiveConnectionLossThroughABI(t *testing.T) {
	needDocker(t)
	dockertest.ForEachEngine(t, func(t *testing.T, e *dockertest.Engine) {
		img := e.Image(t)
		nonce := dockertest.Nonce()
		e.Cleanup(t, nonce)
		label := dockertest.Label + "=" + nonce
		p := dockertest.NewProxyTo(t, e)
		r := newLiveReader(t, fmt.Sprintf(`{"filters":{"label":[%q],"event":["create","destroy"]},"reconnectMinMs":20,"reconnectMaxMs":200,"logLevel":"error"}`, label), p.Endpoint())
		r.waitConnected()

		var want []string
		churn := func(n int) {
			for k := 0; k < n; k++ {
				id := e.Docker(t, "create", "--label", label, img)
				e.Docker(t, "rm", id)
				want = append(want, "create "+id, "destroy "+id)
			}
		}
		caughtUp := func() bool { return len(r.evts) >= len(want) }

		churn(3)
		r.until("the events before the first cut", 30*time.Second, caughtUp)
		for round := 1; round <= 2; round++ {
			p.Cut()
			r.cutOff()
			accepted := p.Accepted()
			churn(5)
			r.cutOff() // still nothing: they wait in the daemon
			if p.Accepted() != accepted {
				t.Fatalf("round %d: the proxy accepted a connection while cut", round)
			}
			p.Restore(t)
			r.until(fmt.Sprintf("round %d: the events made during the cut", round), time.Minute, caughtUp)
			if msg := plug.LastError(r.s); strings.Contains(msg, "reconnecting") {
				t.Errorf("round %d: last error still %q after reconnecting", round, msg)
			}
			churn(2)
			r.until(fmt.Sprintf("round %d: the events after the restore", round), 30*time.Second, caughtUp)
		}
		r.settle(500 * time.Millisecond)
		sameSequence(t, "events through two connection losses", r.actions(), want)

		m := plug.MetricsMap(r.s)
		if m["reconnects"] != 2 {
			t.Errorf("reconnects = %d, want 2", m["reconnects"])
		}
		// Each reconnection's since= replays the events of the window before
		// the newest event read: seeing those dropped shows the exactly-once
		// above is the dedupe's doing.
		if m["events_duplicate"] < m["reconnects"] {
			t.Errorf("events_duplicate = %d after %d reconnects: the daemon's replay of the window was not seen", m["events_duplicate"], m["reconnects"])
		}
		if m["events_dropped"] != 0 || m["events_delivered"] != uint64(len(want)) {
			t.Errorf("dropped=%d delivered=%d, want 0 and %d", m["events_dropped"], m["events_delivered"], len(want))
		}
		t.Logf("%d events, %d reconnects, %d replayed duplicates dropped, %d connect errors",
			len(r.evts), m["reconnects"], m["events_duplicate"], m["connect_errors"])
	})
}

// TestLiveDaemonRestartThroughABI: the test runs a dockerd of its own and
// restarts it twice while the plugin reads it. Each time the plugin reports
// the loss, keeps answering next_batch, reconnects to the new daemon and
// delivers what happened after the restart (events made at once, most
// likely before it reconnects, and events made after), each exactly once.
// The filter is sent again on every connection: only volume events arrive.
func TestLiveDaemonRestartThroughABI(t *testing.T) {
	needDocker(t)
	d := dockertest.StartDaemon(t)
	r := newLiveReader(t, `{"filters":{"type":["volume"]},"reconnectMinMs":50,"reconnectMaxMs":500,"logLevel":"error"}`, d.Endpoint())
	r.waitConnected()

	var want []string
	volume := func(action, name string) {
		if action == "create" {
			d.Docker(t, "volume", "create", name)
		} else {
			d.Docker(t, "volume", "rm", name)
		}
		want = append(want, action+" "+name)
	}
	caughtUp := func() bool { return len(r.evts) >= len(want) }

	volume("create", "fdp-a1")
	volume("create", "fdp-a2")
	// Not volume events (image import and tag): the daemon filters them out.
	d.Docker(t, "import", emptyTar(t), "fdp-filtered:1")
	r.until("the events before the restart", 30*time.Second, caughtUp)
	for round := 1; round <= 2; round++ {
		d.Stop(t)
		r.cutOff()
		d.Start(t)
		// At once: the plugin is most likely still in its backoff.
		volume("create", fmt.Sprintf("fdp-b%d", round))
		volume("destroy", fmt.Sprintf("fdp-a%d", round))
		r.until(fmt.Sprintf("restart %d: the events made as the daemon came back", round), time.Minute, caughtUp)
		r.until(fmt.Sprintf("restart %d: the reconnection", round), 30*time.Second, func() bool {
			return plug.MetricsMap(r.s)["reconnects"] == uint64(round)
		})
		d.Docker(t, "tag", "fdp-filtered:1", fmt.Sprintf("fdp-filtered:r%d", round))
		volume("create", fmt.Sprintf("fdp-c%d", round))
		r.until(fmt.Sprintf("restart %d: the events after the reconnection", round), 30*time.Second, caughtUp)
	}
	r.settle(500 * time.Millisecond)
	sameSequence(t, "volume events through two daemon restarts", r.actions(), want)
	for _, e := range r.evts {
		if e.str("docker.type") != "volume" {
			t.Errorf("type filter let through: %s", e.payload)
		}
	}
	m := plug.MetricsMap(r.s)
	if m["reconnects"] != 2 || m["events_dropped"] != 0 || m["events_delivered"] != uint64(len(want)) {
		t.Errorf("reconnects=%d dropped=%d delivered=%d, want 2, 0, %d", m["reconnects"], m["events_dropped"], m["events_delivered"], len(want))
	}
	t.Logf("%d events, %d reconnects, %d connect errors", len(r.evts), m["reconnects"], m["connect_errors"])
}

// emptyTar writes a tar archive holding one empty directory, for
// `docker import`.
func emptyTar(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "empty.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Now()})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
