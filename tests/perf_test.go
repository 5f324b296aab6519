package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/rules"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// loadCorpusStore replays a generated corpus through the plugin and keeps
// its events in a store, as Falco holds them for extraction.
func loadCorpusStore(t testing.TB, s harness.State, n int) *harness.EventStore {
	t.Helper()
	return loadStore(t, s, writeCorpus(t, t.TempDir(), n), n)
}

// loadStore replays the n events of path into a store.
func loadStore(t testing.TB, s harness.State, path string, n int) *harness.EventStore {
	t.Helper()
	i, rc := plug.Open(s, fileURI(path))
	if rc != harness.Success {
		t.Fatalf("open: %s", plug.LastError(s))
	}
	defer plug.Close(s, i)
	store := harness.NewEventStore(n, "docker")
	for calls := 0; ; calls++ {
		if calls > n { // every call but the last delivers events
			t.Fatalf("no EOF after %d next_batch calls over %d events", calls, n)
		}
		raw, rc := plug.NextBatchRaw(s, i)
		for _, r := range raw {
			store.AddRaw(r, plug.ID(), uint64(store.Len()))
		}
		if rc == harness.EOF {
			break
		}
		if rc != harness.Success && rc != harness.Timeout {
			t.Fatalf("next_batch: %s", plug.LastError(s))
		}
	}
	if store.Len() != n {
		t.Fatalf("replayed %d events, want %d", store.Len(), n)
	}
	return store
}

// benchRequests: every field (docker.attributes with a label key).
func benchRequests(t testing.TB) []harness.Request {
	fields, err := plug.Fields()
	if err != nil {
		t.Fatal(err)
	}
	var reqs []harness.Request
	for id, f := range fields {
		r := harness.Request{ID: uint32(id), Name: f.Name, Type: f.TypeCode(), IsList: f.IsList}
		if f.Arg.IsRequired {
			r.Arg, r.HasArg = "com.docker.compose.project", true
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// allocs is the plugin runtime's count of heap allocations, tiny ones
// included. It is exact at each read (the plugin reads it with
// runtime.ReadMemStats, which flushes every P's cached counts): a window
// counts what the plugin allocated in it, no more (a GC in the window adds
// nothing) and no less (no allocation hides in a partly used span).
func allocs(m map[string]uint64) uint64 { return m["go_heap_allocs"] }

// TestZeroAllocHotPaths measures heap allocations inside the plugin's own
// runtime (plugin_get_metrics exposes its allocation counters) over a steady
// state of next_batch and of extraction of every field: the tolerance is a
// small fixed number for the whole run, far below one per event.
func TestZeroAllocHotPaths(t *testing.T) {
	needDocker(t)
	s := initOK(t, `{"logLevel":"error"}`)
	const n = 20000
	path := writeCorpus(t, t.TempDir(), n)

	// The counter is live: opening an instance allocates (its read buffer).
	before := allocs(plug.MetricsMap(s))
	i, rc := plug.Open(s, fileURI(path))
	if rc != harness.Success {
		t.Fatal(plug.LastError(s))
	}
	plug.Close(s, i)
	if allocs(plug.MetricsMap(s)) == before {
		t.Fatal("go_heap_allocs did not move over an open/close: the measurement would prove nothing")
	}

	// next_batch: warm up with one replay, measure a second one.
	replay := func() uint64 {
		i, rc := plug.Open(s, fileURI(path))
		if rc != harness.Success {
			t.Fatal(plug.LastError(s))
		}
		defer plug.Close(s, i)
		plug.BenchNextBatch(s, i, 1) // open-time lazy work
		before := allocs(plug.MetricsMap(s))
		rc, evts := plug.BenchNextBatch(s, i, 1<<20)
		after := allocs(plug.MetricsMap(s))
		if rc != harness.EOF || evts < n-200 {
			t.Fatalf("replay: rc=%d after %d events", rc, evts)
		}
		return after - before
	}
	replay()
	if a := replay(); a > 20 {
		t.Errorf("next_batch: %d heap allocations for %d events (steady state must not allocate per event)", a, n)
	} else {
		t.Logf("next_batch: %d allocations over %d events", a, n)
	}

	// Extraction: every field, one per call, then all in one call; on the
	// corpus and on the same events with a container context.
	f := harness.NewBenchFields(benchRequests(t))
	defer f.Free()
	for _, corpus := range []struct{ name, path string }{
		{"plain", writeCorpus(t, t.TempDir(), 2000)}, {"context", writeContextCorpus(t, t.TempDir(), 2000)},
	} {
		store := loadStore(t, s, corpus.path, 2000)
		defer store.Free()
		for _, one := range []bool{true, false} {
			plug.BenchExtract(s, store, f, 1, one) // warm-up: buffers reach their size
			before := allocs(plug.MetricsMap(s))
			if rc := plug.BenchExtract(s, store, f, 3, one); rc != harness.Success {
				t.Fatalf("%s: extract rc=%d: %s", corpus.name, rc, plug.LastError(s))
			}
			a := allocs(plug.MetricsMap(s)) - before
			if a > 20 {
				t.Errorf("%s: extract (one per call %v): %d heap allocations for %d events x %d fields", corpus.name, one, a, 3*store.Len(), len(benchRequests(t)))
			} else {
				t.Logf("%s: extract (one per call %v): %d allocations over %d events x %d fields", corpus.name, one, a, 3*store.Len(), len(benchRequests(t)))
			}
		}
	}
}

// processCPU is the CPU time of the whole process so far (the plugin's
// runtime and the harness together), user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEmptyCall is the floor of any ABI call in this run.
func BenchmarkEmptyCall(b *testing.B) {
	needDocker(b)
	b.ResetTimer()
	plug.BenchEmpty(uint64(b.N))
}

// floorMeter measures the empty-call floor in slices interleaved with a
// benchmark's own slices, so that both see the same machine: on a loaded,
// shared one the speed drifts within a run, and a floor measured once, at
// the start, makes a ratio of two different moments.
type floorMeter struct {
	elapsed time.Duration
	calls   uint64
}

func (f *floorMeter) sample() {
	const calls = 100_000
	start := time.Now()
	plug.BenchEmpty(calls)
	f.elapsed += time.Since(start)
	f.calls += calls
}

func (f *floorMeter) ns() float64 { return float64(f.elapsed.Nanoseconds()) / float64(f.calls) }

// BenchmarkNextBatch: replay throughput through the ABI (batch 128,
// realistic ~500-byte events with a few large-label ones); one op = one event.
func BenchmarkNextBatch(b *testing.B) {
	needDocker(b)
	s := initOK(b, `{"batchSize":128,"logLevel":"error"}`)
	const n = 200000
	path := writeCorpus(b, b.TempDir(), n)
	b.ResetTimer()
	var total uint64
	for total < uint64(b.N) {
		b.StopTimer()
		i, rc := plug.Open(s, fileURI(path))
		if rc != harness.Success {
			b.Fatal(plug.LastError(s))
		}
		b.StartTimer()
		_, evts := plug.BenchNextBatch(s, i, 1<<30)
		total += evts
		b.StopTimer()
		plug.Close(s, i)
		b.StartTimer()
	}
	b.StopTimer()
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(total)/el, "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/event")
}

func benchExtract(b *testing.B, one bool) {
	needDocker(b)
	s := initOK(b, `{"logLevel":"error"}`)
	store := loadCorpusStore(b, s, 1000)
	defer store.Free()
	reqs := benchRequests(b)
	f := harness.NewBenchFields(reqs)
	defer f.Free()
	plug.BenchExtract(s, store, f, 1, one)
	var floor floorMeter
	perRound := store.Len() * len(reqs)
	rounds := b.N/perRound + 1
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		b.StopTimer()
		floor.sample()
		b.StartTimer()
		if rc := plug.BenchExtract(s, store, f, 1, one); rc != harness.Success {
			b.Fatalf("rc=%d: %s", rc, plug.LastError(s))
		}
	}
	b.StopTimer()
	nsField := float64(b.Elapsed().Nanoseconds()) / float64(rounds*perRound)
	b.ReportMetric(nsField, "ns/field")
	b.ReportMetric(floor.ns(), "ns/emptycall")
	b.ReportMetric(nsField/floor.ns(), "x-floor")
	b.ReportMetric(0, "ns/op")
}

// falcoRequests are the extraction calls Falco's rule evaluation makes for
// each event with the shipped rules: one per field reference of every
// enabled rule's condition, in rule order, macros and lists expanded
// (rules.ConditionFields, derived from docker_rules.yaml as it is now).
func falcoRequests(t testing.TB) []harness.Request {
	refs, err := rules.ConditionFields(rules.File)
	if err != nil {
		t.Fatal(err)
	}
	declared, err := plug.Fields()
	if err != nil {
		t.Fatal(err)
	}
	var reqs []harness.Request
	for _, r := range refs {
		for _, ref := range r.Fields {
			id := slices.IndexFunc(declared, func(f harness.Field) bool { return f.Name == ref.Name })
			if id < 0 {
				t.Fatalf("rule %q: the plugin has no field %s", r.Rule, ref.Name)
			}
			f := declared[id]
			reqs = append(reqs, harness.Request{ID: uint32(id), Name: f.Name, Type: f.TypeCode(), IsList: f.IsList, Arg: ref.Arg, HasArg: ref.HasArg})
		}
	}
	return reqs
}

// BenchmarkFalcoShaped is the plugin's share of Falco's work per event with
// the shipped rules loaded: replay through next_batch (batch 128) and, for
// every event, the extraction calls of falcoRequests, one field per call, on
// a copy of the event in one reused buffer as Falco's plugin source holds it.
// It reports ns per event (next_batch and extraction), calls per event, and
// the empty-call floor of the same run. Two corpora: the generated events as
// daemons send them (plain), and the same events with the container context
// member the live source adds to the events of a container (context).
func BenchmarkFalcoShaped(b *testing.B) {
	needDocker(b)
	const n = 50000
	dir := b.TempDir()
	for _, c := range []struct{ name, path string }{{"plain", writeCorpus(b, dir, n)}, {"context", writeContextCorpus(b, dir, n)}} {
		b.Run(c.name, func(b *testing.B) { benchFalcoShaped(b, c.path) })
	}
}

func benchFalcoShaped(b *testing.B, path string) {
	s := initOK(b, `{"batchSize":128,"logLevel":"error"}`)
	reqs := falcoRequests(b)
	f := harness.NewBenchFields(reqs)
	defer f.Free()
	var floor floorMeter
	var evtnum, total, calls uint64
	const slice = 5000 // events between two floor samples
	b.ResetTimer()
	for total < uint64(b.N) {
		b.StopTimer()
		i, rc := plug.Open(s, fileURI(path))
		if rc != harness.Success {
			b.Fatal(plug.LastError(s))
		}
		for rc != harness.EOF && total < uint64(b.N) {
			floor.sample()
			b.StartTimer()
			var evts, cl uint64
			rc, evts, cl = plug.BenchFalco(s, i, f, min(slice, uint64(b.N)-total), 0, &evtnum)
			b.StopTimer()
			total += evts
			calls += cl
			if rc != harness.EOF && rc != harness.Success && rc != harness.Timeout {
				b.Fatalf("rc=%d after %d events: %s", rc, total, plug.LastError(s))
			}
		}
		plug.Close(s, i)
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(total)
	b.ReportMetric(ns, "ns/event")
	b.ReportMetric(float64(calls)/float64(total), "calls/event")
	b.ReportMetric(floor.ns(), "ns/emptycall")
	b.ReportMetric(ns/floor.ns(), "x-floor/event")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkFalcoPaced is BenchmarkFalcoShaped at a live host's pace, one
// event per millisecond (1000 events/s, a busy Docker host): what the
// plugin costs Falco in CPU when events trickle in. cpu-% is the process's
// CPU time (the plugin's runtime and the harness together) over wall time,
// in percent of one core; the pause itself costs nothing. One op = one
// event (b.N events, ~1 ms each: use -benchtime 2000x).
func BenchmarkFalcoPaced(b *testing.B) {
	needDocker(b)
	s := initOK(b, `{"batchSize":128,"logLevel":"error"}`)
	path := writeCorpus(b, b.TempDir(), 5000)
	f := harness.NewBenchFields(falcoRequests(b))
	defer f.Free()
	i := openOK(b, s, fileURI(path))
	var evtnum uint64
	plug.BenchFalco(s, i, f, 128, 0, &evtnum) // warm-up
	b.ResetTimer()
	c0, w0 := processCPU(), time.Now()
	var total uint64
	for total < uint64(b.N) {
		rc, evts, _ := plug.BenchFalco(s, i, f, uint64(b.N)-total, time.Millisecond, &evtnum)
		total += evts
		if rc == harness.EOF {
			plug.Close(s, i)
			i = openOK(b, s, fileURI(path))
		} else if rc != harness.Success && rc != harness.Timeout {
			b.Fatalf("rc=%d: %s", rc, plug.LastError(s))
		}
	}
	used, wall := processCPU()-c0, time.Since(w0)
	b.ReportMetric(100*float64(used)/float64(wall), "cpu-%")
}

// BenchmarkExtractEachField: one field per plugin_extract_fields call,
// averaged over every field and every corpus event.
func BenchmarkExtractEachField(b *testing.B) { benchExtract(b, true) }

// BenchmarkExtractAllFields: all fields of an event in one call.
func BenchmarkExtractAllFields(b *testing.B) { benchExtract(b, false) }

// BenchmarkEventToString: plugin_event_to_string per event.
func BenchmarkEventToString(b *testing.B) {
	needDocker(b)
	s := initOK(b, `{"logLevel":"error"}`)
	store := loadCorpusStore(b, s, 1000)
	defer store.Free()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		plug.EventToString(s, store, k%store.Len())
	}
}

// BenchmarkLiveIdle: Falco's loop over next_batch on a connected, idle live
// stream (a fake daemon that sends nothing). One op = one next_batch call,
// which waits waitMs (5 ms) and times out. cpu-% is the process's CPU time
// (the plugin's runtime and this loop together) over wall time, in percent
// of one core: the cost of an idle Docker host to Falco.
//
// context=off is the same with the container context off: its workers wait
// on channels and its timer is stopped while nothing waits for an
// inspection, so an idle stream costs the same.
func BenchmarkLiveIdle(b *testing.B) {
	for _, wait := range []int{5, 10, 20} {
		b.Run(fmt.Sprintf("waitMs=%d", wait), func(b *testing.B) { benchLiveIdle(b, wait, true) })
	}
	b.Run("waitMs=5/context=off", func(b *testing.B) { benchLiveIdle(b, 5, false) })
}

func benchLiveIdle(b *testing.B, waitMs int, context bool) {
	needDocker(b)
	d := sourcetest.New(b, "1.44")
	s := initOK(b, fmt.Sprintf(`{"logLevel":"error","waitMs":%d,"containerContext":%v}`, waitMs, context))
	i := openOK(b, s, d.Endpoint())
	d.WaitConn(b)
	b.ResetTimer()
	c0, w0 := processCPU(), time.Now()
	// The loop runs in C, as Falco's does: a Go host calling in per
	// iteration would add its own runtime's cgo-call overhead.
	if rc, evts := plug.BenchNextBatch(s, i, uint64(b.N)); rc != harness.Timeout || evts != 0 {
		b.Fatalf("idle next_batch rc=%d with %d events, want timeouts", rc, evts)
	}
	used, wall := processCPU()-c0, time.Since(w0)
	b.ReportMetric(100*float64(used)/float64(wall), "cpu-%")
}

// writeContextCorpus writes the generated corpus with, on every event that
// names a container, a container context member as the live source adds
// it (a privileged container with two mounts and a few options: about 500
// bytes).
func writeContextCorpus(t testing.TB, dir string, n int) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("context-corpus-%d.jsonl", n))
	var b bytes.Buffer
	var e event.Event
	user := "1000:1000"
	for _, l := range genCorpus(n, 42) {
		e.Parse(l)
		if id := e.ContainerID(); id.OK {
			c := event.Context{ID: id.S, Privileged: event.FlagTrue, HostPID: event.FlagFalse, HostNetwork: event.FlagFalse, HostIPC: event.FlagFalse,
				ReadonlyRootfs: event.FlagFalse, User: &user, CapAdd: []string{"SYS_ADMIN", "NET_ADMIN"}, CapDrop: []string{"NET_RAW"},
				SecurityOpt: []string{"seccomp=unconfined", "label=disable"}, Devices: []string{"/dev/fuse"},
				Mounts: []event.Mount{{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: event.FlagTrue},
					{Type: "volume", Source: "/var/lib/docker/volumes/proj_data/_data", Destination: "/var/lib/data", RW: event.FlagTrue}},
				ImageID: "sha256:4048db5d36726e313ab8f7ffccf2362a34cba69e4cdd49119713483a68641fce", Cmdline: "/docker-entrypoint.sh nginx -g daemon off;"}
			l, _ = event.InsertMember(nil, l, event.ContainerMember, event.CloseContext(event.AppendContext(nil, &c)))
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// BenchmarkContextCost: what the container context costs per event, plain
// corpus against the same events with the member (82 % of them name a
// container): replay next_batch (the longer payload to validate and copy),
// and extraction of every field in one call (the context fields decode the
// member once per event). One op = one event.
func BenchmarkContextCost(b *testing.B) {
	needDocker(b)
	const n = 20000
	dir := b.TempDir()
	corpora := []struct{ name, path string }{{"plain", writeCorpus(b, dir, n)}, {"context", writeContextCorpus(b, dir, n)}}
	for _, c := range corpora {
		b.Run("next_batch/"+c.name, func(b *testing.B) {
			s := initOK(b, `{"batchSize":128,"logLevel":"error"}`)
			var total uint64
			b.ResetTimer()
			for total < uint64(b.N) {
				b.StopTimer()
				i, rc := plug.Open(s, fileURI(c.path))
				if rc != harness.Success {
					b.Fatal(plug.LastError(s))
				}
				b.StartTimer()
				_, evts := plug.BenchNextBatch(s, i, 1<<30)
				total += evts
				b.StopTimer()
				plug.Close(s, i)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/event")
			b.ReportMetric(0, "ns/op")
		})
	}
	for _, c := range corpora {
		for _, fieldSet := range []string{"all", "privileged"} {
			b.Run("extract_"+fieldSet+"/"+c.name, func(b *testing.B) { benchContextExtract(b, c.path, n, fieldSet == "all") })
		}
	}
}

// benchContextExtract: every field of each event in one call, or only
// docker.container.privileged (what a context rule reads first).
func benchContextExtract(b *testing.B, path string, n int, all bool) {
	s := initOK(b, `{"logLevel":"error"}`)
	store := loadStore(b, s, path, n)
	defer store.Free()
	reqs := benchRequests(b)
	if !all {
		for _, r := range reqs {
			if r.Name == "docker.container.privileged" {
				reqs = []harness.Request{r}
				break
			}
		}
	}
	f := harness.NewBenchFields(reqs)
	defer f.Free()
	plug.BenchExtract(s, store, f, 1, false)
	rounds := b.N/store.Len() + 1
	b.ResetTimer()
	if rc := plug.BenchExtract(s, store, f, uint64(rounds), false); rc != harness.Success {
		b.Fatalf("rc=%d: %s", rc, plug.LastError(s))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rounds*store.Len()), "ns/event")
	b.ReportMetric(0, "ns/op")
}
