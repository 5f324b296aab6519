package metrics

import (
	"reflect"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
)

// exported is the contract with operators: each counter and the name it is
// exported under (plugin_get_metrics), in export order.
var exported = []struct {
	name    string
	counter func(c *Counters) *atomic.Uint64
}{
	{"events_received", func(c *Counters) *atomic.Uint64 { return &c.Received }},
	{"events_delivered", func(c *Counters) *atomic.Uint64 { return &c.Delivered }},
	{"events_dropped", func(c *Counters) *atomic.Uint64 { return &c.Dropped }},
	{"events_malformed", func(c *Counters) *atomic.Uint64 { return &c.Malformed }},
	{"events_oversize", func(c *Counters) *atomic.Uint64 { return &c.Oversize }},
	{"events_duplicate", func(c *Counters) *atomic.Uint64 { return &c.Duplicates }},
	{"reconnects", func(c *Counters) *atomic.Uint64 { return &c.Reconnects }},
	{"connect_errors", func(c *Counters) *atomic.Uint64 { return &c.ConnectErrors }},
	{"daemon_stalls", func(c *Counters) *atomic.Uint64 { return &c.Stalls }},
	{"events_with_context", func(c *Counters) *atomic.Uint64 { return &c.ContextEvents }},
	{"events_without_context", func(c *Counters) *atomic.Uint64 { return &c.NoContextEvents }},
	{"context_timeouts", func(c *Counters) *atomic.Uint64 { return &c.ContextTimeouts }},
	{"container_inspects", func(c *Counters) *atomic.Uint64 { return &c.Inspects }},
	{"container_inspect_errors", func(c *Counters) *atomic.Uint64 { return &c.InspectErrors }},
	{"container_cache_entries", func(c *Counters) *atomic.Uint64 { return &c.CacheEntries }},
	{"extract_errors", func(c *Counters) *atomic.Uint64 { return &c.ExtractErrors }},
	{"panics", func(c *Counters) *atomic.Uint64 { return &c.Panics }},
}

func TestSnapshotOrderAndValues(t *testing.T) {
	var c Counters
	for i, e := range exported {
		e.counter(&c).Add(uint64(i+1)*1000 + 7)
	}
	snap := c.Snapshot(nil)
	if len(snap) != len(exported) || len(Names) != len(exported) {
		t.Fatalf("Snapshot has %d metrics, Names %d, want %d", len(snap), len(Names), len(exported))
	}
	for i, e := range exported {
		want := Metric{Name: e.name, Value: uint64(i+1)*1000 + 7, Monotonic: e.name != "container_cache_entries"}
		if snap[i] != want {
			t.Errorf("metric %d = %+v, want %+v", i, snap[i], want)
		}
		if Names[i] != e.name {
			t.Errorf("Names[%d] = %q, want %q", i, Names[i], e.name)
		}
	}
}

// Each counter moves its own metric and no other.
func TestCountersAreIndependent(t *testing.T) {
	for i, e := range exported {
		var c Counters
		e.counter(&c).Add(3)
		for j, m := range c.Snapshot(nil) {
			want := uint64(0)
			if j == i {
				want = 3
			}
			if m.Value != want {
				t.Errorf("after %s += 3: %s = %d, want %d", e.name, m.Name, m.Value, want)
			}
		}
	}
}

func TestZeroValueAndNames(t *testing.T) {
	var c Counters
	for _, m := range c.Snapshot(nil) {
		if m.Value != 0 || m.Monotonic == (m.Name == "container_cache_entries") {
			t.Errorf("zero Counters: %+v", m)
		}
	}
	typ := reflect.TypeOf(Counters{})
	counters := 0
	for i := 0; i < typ.NumField(); i++ {
		if typ.Field(i).Type == reflect.TypeOf(atomic.Uint64{}) {
			counters++
		}
	}
	if counters != len(Names) {
		t.Errorf("Counters has %d counters, Names %d: a counter is not exported", counters, len(Names))
	}
	valid := regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	seen := map[string]bool{}
	for _, n := range Names {
		if !valid.MatchString(n) || seen[n] {
			t.Errorf("metric name %q (duplicate: %v)", n, seen[n])
		}
		seen[n] = true
	}
}

func TestSnapshotAppends(t *testing.T) {
	var c Counters
	c.Panics.Store(1)
	dst := []Metric{{Name: "mine", Value: 42}}
	dst = c.Snapshot(dst)
	if len(dst) != 1+len(Names) || dst[0] != (Metric{Name: "mine", Value: 42}) || dst[len(dst)-1] != (Metric{Name: "panics", Value: 1, Monotonic: true}) {
		t.Errorf("Snapshot(dst) = %+v", dst)
	}
}

func TestSnapshotReusesDst(t *testing.T) {
	var c Counters
	c.Received.Store(5)
	dst := make([]Metric, 0, len(Names))
	first := c.Snapshot(dst)
	if &first[0] != &dst[:1][0] {
		t.Error("Snapshot did not use dst's backing array")
	}
	if n := testing.AllocsPerRun(100, func() {
		c.Delivered.Add(1)
		dst = c.Snapshot(dst[:0])
	}); n != 0 {
		t.Errorf("Snapshot into a reused dst allocates %v times", n)
	}
	if dst[0].Value != 5 || dst[1].Value == 0 {
		t.Errorf("reused snapshot %+v", dst[:2])
	}
}

// Snapshots taken while counters move (Falco's web server thread vs the
// event loop): no race, every value monotonic, final values exact.
func TestSnapshotConcurrent(t *testing.T) {
	const writers, adds = 4, 2000
	var c Counters
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < adds; i++ {
				for _, e := range exported {
					e.counter(&c).Add(1)
				}
			}
		}()
	}
	done := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		prev := make([]Metric, 0, len(Names))
		cur := make([]Metric, 0, len(Names))
		prev = c.Snapshot(prev)
		for {
			select {
			case <-done:
				return
			default:
			}
			cur = c.Snapshot(cur[:0])
			for i := range cur {
				if cur[i].Value < prev[i].Value {
					t.Errorf("%s went back from %d to %d", cur[i].Name, prev[i].Value, cur[i].Value)
					return
				}
			}
			prev, cur = cur, prev
		}
	}()
	wg.Wait()
	close(done)
	reader.Wait()
	for _, m := range c.Snapshot(nil) {
		if m.Value != writers*adds {
			t.Errorf("%s = %d, want %d", m.Name, m.Value, writers*adds)
		}
	}
}
