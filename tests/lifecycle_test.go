package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// TestTimeoutWhenNothingAvailable: next_batch returns SS_PLUGIN_TIMEOUT
// within the configured wait when nothing is available (a FIFO whose writer
// is quiet), then delivers what arrives, then EOF when the writer closes.
func TestTimeoutWhenNothingAvailable(t *testing.T) {
	needDocker(t)
	fifo, w := quietFIFO(t) // the writer exists before the plugin opens
	s := initOK(t, `{"waitMs":20}`)
	i := openOK(t, s, fileURI(fifo))
	for k := 0; k < 3; k++ {
		start := time.Now()
		evts, rc := plug.NextBatch(s, i)
		el := time.Since(start)
		if rc != harness.Timeout || len(evts) != 0 {
			t.Fatalf("idle next_batch: rc=%d events=%d, want timeout with 0", rc, len(evts))
		}
		// Generous bound: the point is "returns", not a precise timing.
		if el > 2*time.Second {
			t.Fatalf("idle next_batch took %v with waitMs=20", el)
		}
	}
	if _, err := w.WriteString(sampleEvent + "\n"); err != nil {
		t.Fatal(err)
	}
	got := nextBatchUntil(t, s, i, "the event written", 5*time.Second, func(got []harness.Event) bool { return len(got) > 0 })
	if len(got) != 1 || string(got[0].Data) != sampleEvent {
		t.Fatalf("got %d events after writing one", len(got))
	}
	// A read-write FIFO handle keeps a writer; switch to a write-only one
	// and close everything so the reader sees EOF.
	w2, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	w2.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, rc := plug.NextBatch(s, i)
		if rc == harness.EOF {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no EOF after the writer closed (rc=%d)", rc)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	dir := t.TempDir()
	cases := map[string]string{
		"file://relative/path.jsonl":             "host must be empty",
		"file:relative.jsonl":                    "expected file:///",
		"file:///does/not/exist.jsonl":           "no such file",
		fileURI(dir):                             "is a directory",
		"file://host.example/x.jsonl":            "host must be empty",
		"file:///tmp/x.jsonl?q=1":                "query",
		"gopher://x":                             `unknown scheme "gopher"`,
		"just some words":                        "expected file:///",
		"file://" + strings.Repeat("/a", 32<<10): "longer than",
	}
	for params, want := range cases {
		i, rc := plug.Open(s, params)
		if rc != harness.Failure || i != 0 {
			t.Errorf("open(%.60q) rc=%d, want failure", params, rc)
			if rc == harness.Success {
				plug.Close(s, i)
			}
			continue
		}
		if msg := plug.LastError(s); !strings.Contains(msg, want) {
			t.Errorf("open(%.60q): last error %q, want it to mention %q", params, msg, want)
		}
	}
}

// TestListOpenParams: a JSON array of {value, desc, separator} naming the
// daemon sockets that exist on this host: every unix:// value listed is a
// socket, each with a description, and the candidate paths that are
// sockets here are all listed (Docker's default socket, where the tests
// run; Podman's and the rootless ones when present).
func TestListOpenParams(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	out, rc := plug.ListOpenParams(s)
	if rc != harness.Success {
		t.Fatalf("rc=%d: %s", rc, plug.LastError(s))
	}
	var list []struct{ Value, Desc, Separator string }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list_open_params returned %q, want a JSON array: %v", out, err)
	}
	listed := map[string]bool{}
	for _, e := range list {
		listed[e.Value] = true
		if e.Desc == "" {
			t.Errorf("%s is listed without a description", e.Value)
		}
		if e.Value == os.Getenv("DOCKER_HOST") {
			continue // listed as named, whatever is there
		}
		if path, ok := strings.CutPrefix(e.Value, "unix://"); ok && !isSocket(path) {
			t.Errorf("%s is listed but %s is not a socket", e.Value, path)
		}
	}
	candidates := []string{"/var/run/docker.sock", "/run/podman/podman.sock"}
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); strings.HasPrefix(xdg, "/") {
		candidates = append(candidates, filepath.Join(xdg, "docker.sock"), filepath.Join(xdg, "podman", "podman.sock"))
	}
	sockets := 0
	for _, path := range candidates {
		if isSocket(path) {
			sockets++
			if !listed["unix://"+path] {
				t.Errorf("%s is a socket on this host but list_open_params does not list it: %s", path, out)
			}
		}
	}
	t.Logf("%d of %d candidate sockets exist here: %s", sockets, len(candidates), out)
}

func isSocket(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&os.ModeSocket != 0
}

// rssKiB reads this process's resident set size (host and plugin runtimes
// and C memory together).
func rssKiB(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()) / 1024
}

// TestSoakOpenCloseInitDestroy: 1000 open/close and 200 init/destroy cycles
// in one process, twice. The allocators (the plugin's Go heap, malloc)
// reach their working set during the first round (measured here: resident
// memory rises by 10-18 MiB, then stays flat: 1000 or 4000 cycles end at the
// same ~40 MiB), so the second round must leave the plugin runtime's
// goroutines and heap and the process's resident memory where the first
// left them, within a small bound. A leaked batch (64 x 64 KiB of C memory,
// a page of each slot touched) per cycle would be ~300 MiB resident.
// Handles: 1200 cycles per round go far past the cgo table's 255 slots.
func TestSoakOpenCloseInitDestroy(t *testing.T) {
	needDocker(t)
	path := fixture(t, "replay.jsonl")
	probe := initOK(t, `{"logLevel":"error"}`)
	const cfg = `{"batchSize":64,"logLevel":"error"}`
	// The plugin's live heap is read at its last GC, which may fall while an
	// instance's buffers are live (swings of several MiB were seen under
	// cgocheck2): a round's figure is the least of readings taken every 100
	// cycles, which a leak raises and a badly timed GC does not.
	var minLive uint64
	sample := func() {
		if v := plug.MetricsMap(probe)["go_heap_live_bytes"]; minLive == 0 || v < minLive {
			minLive = v
		}
	}
	round := func() {
		minLive = 0
		s, rc := plug.Init(cfg)
		if rc != harness.Success {
			t.Fatalf("init rc=%d: %s", rc, plug.LastError(s))
		}
		for k := 0; k < 1000; k++ {
			i, rc := plug.Open(s, fileURI(path))
			if rc != harness.Success {
				t.Fatalf("cycle %d: open rc=%d: %s", k, rc, plug.LastError(s))
			}
			if _, rc := plug.NextBatch(s, i); rc != harness.Success && rc != harness.EOF {
				t.Fatalf("cycle %d: next_batch rc=%d", k, rc)
			}
			plug.Close(s, i)
			if k%100 == 99 {
				sample()
			}
		}
		plug.Destroy(s)
		for k := 0; k < 200; k++ {
			s2, rc := plug.Init(cfg)
			if rc != harness.Success {
				t.Fatalf("init cycle %d: rc=%d: %s", k, rc, plug.LastError(s2))
			}
			i, rc := plug.Open(s2, fileURI(path))
			if rc != harness.Success {
				t.Fatalf("init cycle %d: open rc=%d", k, rc)
			}
			plug.NextBatch(s2, i)
			plug.Close(s2, i)
			plug.Destroy(s2)
			if k%100 == 99 {
				sample()
			}
		}
		time.Sleep(50 * time.Millisecond)
		sample()
	}
	round()
	base, baseRSS := plug.MetricsMap(probe), rssKiB(t)
	base["go_heap_live_bytes"] = minLive
	round()
	after, afterRSS := plug.MetricsMap(probe), rssKiB(t)
	after["go_heap_live_bytes"] = minLive
	t.Logf("second round: plugin goroutines %d -> %d; plugin heap %d -> %d KiB; process RSS %d -> %d KiB",
		base["go_goroutines"], after["go_goroutines"], base["go_heap_live_bytes"]>>10, after["go_heap_live_bytes"]>>10, baseRSS, afterRSS)
	if after["go_goroutines"] > base["go_goroutines"]+1 {
		t.Errorf("plugin goroutines grew from %d to %d", base["go_goroutines"], after["go_goroutines"])
	}
	checkFlat(t, "", base, after, baseRSS, afterRSS)
}

// checkFlat fails the test when the plugin heap (the live heap its last GC
// found, from its own metrics: what a leak grows, where the heap allocated
// now swings by the GC's pace) or the process's resident memory grew by
// more than 8 MiB between two readings.
func checkFlat(t *testing.T, over string, base, after map[string]uint64, baseRSS, afterRSS int64) {
	t.Helper()
	if after["go_heap_live_bytes"] > base["go_heap_live_bytes"]+8<<20 {
		t.Errorf("plugin heap grew from %d to %d bytes%s", base["go_heap_live_bytes"], after["go_heap_live_bytes"], over)
	}
	if afterRSS > baseRSS+8<<10 {
		t.Errorf("resident memory grew from %d to %d KiB%s", baseRSS, afterRSS, over)
	}
}

// TestHandleBudget: more live states than the cgo handle table can hold
// are refused with an error, not a crash.
func TestHandleBudget(t *testing.T) {
	needDocker(t)
	var states []harness.State
	defer func() {
		for _, s := range states {
			plug.Destroy(s)
		}
	}()
	for k := 0; k < 300; k++ {
		s, rc := plug.Init("")
		states = append(states, s)
		if rc != harness.Success {
			if msg := plug.LastError(s); !strings.Contains(msg, "too many live plugin states") {
				t.Fatalf("init %d failed with %q", k, msg)
			}
			return
		}
	}
	t.Fatal("300 live plugin states were all accepted: the handle table (255) would overflow")
}

// TestLongReplayMemoryFlat: two million events replayed through
// next_batch with fields extracted from every one (in batches, as Falco
// does): the plugin's heap and the process's resident memory after the
// last million are where they were after the first.
func TestLongReplayMemoryFlat(t *testing.T) {
	needDocker(t)
	const perRound, rounds = 100_000, 20
	path := writeCorpus(t, t.TempDir(), perRound)
	s := initOK(t, `{"logLevel":"error"}`)
	reqs := benchRequests(t)[:4]
	store := harness.NewEventStore(256, "docker")
	defer store.Free()
	var total uint64
	round := func() {
		i, rc := plug.Open(s, fileURI(path))
		if rc != harness.Success {
			t.Fatal(plug.LastError(s))
		}
		defer plug.Close(s, i)
		for calls := 0; ; calls++ {
			if calls > perRound { // every call but the last delivers events
				t.Fatalf("no EOF after %d next_batch calls over %d events", calls, perRound)
			}
			raw, rc := plug.NextBatchRaw(s, i)
			store.Reset()
			for _, r := range raw {
				store.AddRaw(r, plug.ID(), total)
				total++
			}
			if n := store.Len(); n > 0 {
				// Every event's fields, through one C loop per batch.
				f := harness.NewBenchFields(reqs)
				if rc := plug.BenchExtract(s, store, f, 1, false); rc != harness.Success {
					t.Fatalf("extract rc=%d: %s", rc, plug.LastError(s))
				}
				f.Free()
			}
			if rc == harness.EOF {
				return
			}
			if rc != harness.Success && rc != harness.Timeout {
				t.Fatalf("next_batch rc=%d: %s", rc, plug.LastError(s))
			}
		}
	}
	// Resident memory is sampled after every round (the harness's own
	// garbage returned first); a leak grows steadily, so the least value of
	// the last five rounds is compared with the least of rounds 5-9.
	var base, after map[string]uint64
	baseRSS, afterRSS := int64(1<<62), int64(1<<62)
	for r := 0; r < rounds; r++ {
		round()
		debug.FreeOSMemory()
		rss, m := rssKiB(t), plug.MetricsMap(s)
		if os.Getenv("LONG_REPLAY_TRACE") != "" {
			t.Logf("round %d: RSS %d KiB, plugin heap %d KiB", r, rss, m["go_heap_live_bytes"]>>10)
		}
		switch {
		case r >= 5 && r < 10:
			baseRSS = min(baseRSS, rss)
			base = m
		case r >= rounds-5:
			afterRSS = min(afterRSS, rss)
			after = m
		}
	}
	if after["events_delivered"] != perRound*rounds || total != perRound*rounds {
		t.Fatalf("delivered %d (harness counted %d), want %d", after["events_delivered"], total, perRound*rounds)
	}
	t.Logf("%d events: plugin heap %d -> %d KiB, RSS %d -> %d KiB (second million)", total,
		base["go_heap_live_bytes"]>>10, after["go_heap_live_bytes"]>>10, baseRSS, afterRSS)
	// A leak of 16 bytes per event would be 16 MiB here; the bounds leave
	// room for GC timing (each open allocates a 256 KiB read buffer).
	checkFlat(t, " over a million events", base, after, baseRSS, afterRSS)
}

// TestUnreadableReplayFile: a file that cannot be read is a clean error,
// at open (permissions) or at next_batch (a read error: /proc/self/mem
// refuses reads at offset 0 with EIO), never a crash.
//
// Root reads any file (CAP_DAC_OVERRIDE), and CI runs as root: there the
// open runs on a thread of its own that has given up the capabilities that
// bypass file permissions (capabilities are per thread, and a cgo call,
// with the plugin's Go callback, runs on the calling thread), so the
// kernel refuses the plugin's open as it refuses any unprivileged user's.
func TestUnreadableReplayFile(t *testing.T) {
	needDocker(t)
	s := initOK(t, `{"logLevel":"error"}`)
	p := filepath.Join(t.TempDir(), "secret.jsonl")
	if err := os.WriteFile(p, []byte("{}\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	var (
		i   harness.Instance
		rc  int32
		msg string
	)
	open := func() {
		i, rc = plug.Open(s, fileURI(p))
		msg = plug.LastError(s)
	}
	if os.Geteuid() == 0 {
		if err := onUnprivilegedThread(open); err != nil {
			t.Fatalf("cannot drop the file capabilities of a thread: %v", err)
		}
	} else {
		open()
	}
	if rc != harness.Failure || !strings.Contains(msg, "permission denied") {
		t.Errorf("open of a mode-000 file (euid %d): rc=%d %q", os.Geteuid(), rc, msg)
		if rc == harness.Success {
			plug.Close(s, i)
		}
	}

	i, rc = plug.Open(s, "file:///proc/self/mem")
	if rc != harness.Success {
		t.Fatalf("open /proc/self/mem: %s", plug.LastError(s))
	}
	defer plug.Close(s, i)
	if evts, rc := plug.NextBatch(s, i); rc != harness.Failure || len(evts) != 0 || !strings.Contains(plug.LastError(s), "read replay file") {
		t.Errorf("next_batch on an unreadable file: rc=%d, %d events, last error %q", rc, len(evts), plug.LastError(s))
	}
}

// onUnprivilegedThread runs fn on a fresh OS thread without the
// capabilities that bypass file permission checks (CAP_DAC_OVERRIDE,
// CAP_DAC_READ_SEARCH: dropped from its effective, permitted and
// inheritable sets, so nothing on it can raise them again). The thread is
// never given back to the Go scheduler: it ends with its goroutine.
func onUnprivilegedThread(fn func()) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capget: %w", err)
			return
		}
		for _, c := range []int{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH} {
			d := &data[c/32]
			bit := uint32(1) << (c % 32)
			d.Effective &^= bit
			d.Permitted &^= bit
			d.Inheritable &^= bit
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capset: %w", err)
			return
		}
		fn()
		done <- nil
	}()
	return <-done
}
