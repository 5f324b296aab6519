package container

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/metrics"
)

// fakeInspector answers from a table; a container whose gate is set
// answers only when the gate is closed (or the call's context ends).
type fakeInspector struct {
	mu       sync.Mutex
	ctxs     map[string]event.Context
	gates    map[string]chan struct{}
	sessions map[string][]string
	cmds     map[string]string
	list     []string
	listGate chan struct{} // when set, List answers once it is closed
	lists    int           // List calls so far
	calls    map[string]int
}

func newFake() *fakeInspector {
	return &fakeInspector{ctxs: map[string]event.Context{}, gates: map[string]chan struct{}{}, sessions: map[string][]string{}, cmds: map[string]string{}, calls: map[string]int{}}
}

func (f *fakeInspector) add(id string, privileged bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := "1000"
	f.ctxs[id] = event.Context{ID: id, Privileged: event.FlagOf(privileged), User: &u, Mounts: []event.Mount{{Type: "bind", Source: "/", Destination: "/host", RW: event.FlagFalse}}}
}

func (f *fakeInspector) gate(id string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := make(chan struct{})
	f.gates[id] = g
	return g
}

func (f *fakeInspector) Inspect(ctx context.Context, id string) (event.Context, error) {
	f.mu.Lock()
	f.calls[id]++
	g := f.gates[id]
	f.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return event.Context{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ctxs[id]
	if !ok {
		return event.Context{}, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	return c, nil
}

func (f *fakeInspector) ExecSessions(ctx context.Context, id string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sessions[id]...), nil
}

func (f *fakeInspector) ExecCmdline(ctx context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.cmds[id]
	if !ok {
		return "", ErrNotFound
	}
	return c, nil
}

func (f *fakeInspector) List(ctx context.Context, limit int) ([]string, error) {
	f.mu.Lock()
	f.lists++
	ids, g := append([]string(nil), f.list...), f.listGate
	f.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return ids, nil
}

func (f *fakeInspector) callsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

type quiet struct{}

func (quiet) Warnf(string, ...any)  {}
func (quiet) Debugf(string, ...any) {}

// sink collects what the Enricher delivers.
type sink struct {
	mu   sync.Mutex
	evts []string
	ts   []uint64
}

func (s *sink) deliver(p []byte, ts uint64) {
	s.mu.Lock()
	s.evts = append(s.evts, string(p))
	s.ts = append(s.ts, ts)
	s.mu.Unlock()
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.evts...)
}

func (s *sink) wait(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if g := s.got(); len(g) >= n {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events delivered within %s, want %d:\n%s", len(s.got()), within, n, strings.Join(s.got(), "\n"))
		}
		time.Sleep(time.Millisecond)
	}
}

func msg(typ, action, id string, k int, attrs ...string) string {
	a := strings.Join(attrs, ",")
	return fmt.Sprintf(`{"Type":%q,"Action":%q,"Actor":{"ID":%q,"Attributes":{%s}},"timeNano":%d}`, typ, action, id, a, 1700000000000000000+k)
}

func newEnricher(t *testing.T, cfg Config, in Inspector) (*Enricher, *sink, *metrics.Counters) {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 2
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 64
	}
	if cfg.MaxEventSize == 0 {
		cfg.MaxEventSize = 65536
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 1024
	}
	s := &sink{}
	c := &metrics.Counters{}
	e := New(cfg, c, quiet{}, s.deliver)
	e.SetInspector(in)
	t.Cleanup(e.Close)
	return e, s, c
}

// context returns the container member of a delivered payload, "" for none;
// and checks the rest is the event as sent.
func member(t *testing.T, payload, sent string) string {
	t.Helper()
	if payload == sent {
		return ""
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatalf("delivered payload is not JSON: %v: %s", err, payload)
	}
	v, ok := m[event.ContainerMember]
	if !ok || !strings.HasPrefix(payload, sent[:len(sent)-1]+`,"`+event.ContainerMember+`":`) {
		t.Fatalf("payload %s\nis not the event sent with the member added:\n%s", payload, sent)
	}
	return string(v)
}

func TestEnricherAddsContextInOrder(t *testing.T) {
	f := newFake()
	f.add("c1", true)
	f.add("c2", false)
	e, s, c := newEnricher(t, Config{}, f)
	sent := []string{
		msg("container", "create", "c1", 0, `"name":"a"`),
		msg("image", "pull", "alpine", 1),
		msg("container", "start", "c1", 2),
		msg("network", "connect", "n1", 3, `"container":"c1"`),
		msg("container", "create", "c2", 4),
		msg("volume", "mount", "v", 5, `"container":"c2"`),
		msg("container", "exec_start: sh", "c1", 6, `"execID":"x"`),
	}
	for k, m := range sent {
		e.Add([]byte(m), uint64(k))
	}
	got := s.wait(t, len(sent), 10*time.Second)
	for k := range sent {
		m := member(t, got[k], sent[k])
		switch {
		case k == 1:
			if m != "" {
				t.Errorf("image event got a member: %s", got[k])
			}
		case k == 4 || k == 5:
			if !strings.Contains(m, `"id":"c2","privileged":false`) {
				t.Errorf("event %d: member %s", k, m)
			}
		default:
			if m != `{"id":"c1","privileged":true,"user":"1000","mounts":[{"type":"bind","source":"/","destination":"/host","rw":false}]}` {
				t.Errorf("event %d: member %s", k, m)
			}
		}
		if s.ts[k] != uint64(k) {
			t.Errorf("event %d delivered with ts %d", k, s.ts[k])
		}
	}
	if f.callsOf("c1") != 1 || f.callsOf("c2") != 1 {
		t.Errorf("inspections: c1 %d, c2 %d; want one each", f.callsOf("c1"), f.callsOf("c2"))
	}
	if c.ContextEvents.Load() != 6 || c.NoContextEvents.Load() != 0 || c.Inspects.Load() != 2 || c.CacheEntries.Load() != 2 {
		t.Errorf("metrics with %d without %d inspects %d cache %d", c.ContextEvents.Load(), c.NoContextEvents.Load(), c.Inspects.Load(), c.CacheEntries.Load())
	}
}

// A slow inspection holds back the events behind it (order) for at most the
// timeout; events already settled behind it go out with it.
func TestEnricherSlowInspectionTimesOut(t *testing.T) {
	f := newFake()
	f.add("slow", false)
	f.add("fast", false)
	gate := f.gate("slow")
	const timeout = 300 * time.Millisecond
	e, s, c := newEnricher(t, Config{Timeout: timeout}, f)
	sent := []string{msg("container", "create", "slow", 0), msg("container", "create", "fast", 1), msg("image", "pull", "x", 2)}
	start := time.Now()
	for k, m := range sent {
		e.Add([]byte(m), uint64(k))
	}
	got := s.wait(t, 3, 10*time.Second)
	took := time.Since(start)
	if took < timeout {
		t.Errorf("delivered after %s: the events behind the slow one did not wait (order)", took)
	}
	if member(t, got[0], sent[0]) != "" || member(t, got[1], sent[1]) == "" || got[2] != sent[2] {
		t.Errorf("delivered:\n%s", strings.Join(got, "\n"))
	}
	if c.ContextTimeouts.Load() != 1 || c.NoContextEvents.Load() != 1 || c.ContextEvents.Load() != 1 {
		t.Errorf("timeouts %d without %d with %d, want 1 1 1", c.ContextTimeouts.Load(), c.NoContextEvents.Load(), c.ContextEvents.Load())
	}
	close(gate)
	// The slow container is inspected again at its next event.
	deadline := time.Now().Add(10 * time.Second)
	for k := 3; ; k++ {
		m := msg("container", "start", "slow", k)
		e.Add([]byte(m), uint64(k))
		g := s.wait(t, k+1, 10*time.Second)
		if member(t, g[k], m) != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow container never got its context")
		}
		time.Sleep(timeout / 4)
	}
}

func TestEnricherGoneContainer(t *testing.T) {
	f := newFake()
	e, s, c := newEnricher(t, Config{}, f)
	sent := []string{msg("container", "create", "gone", 0), msg("container", "start", "gone", 1), msg("container", "die", "gone", 2, `"exitCode":"0"`), msg("container", "destroy", "gone", 3)}
	for k, m := range sent {
		e.Add([]byte(m), uint64(k))
	}
	got := s.wait(t, 4, 10*time.Second)
	for k := range sent {
		if got[k] != sent[k] {
			t.Errorf("event %d: %s, want it as sent", k, got[k])
		}
	}
	if f.callsOf("gone") != 1 {
		t.Errorf("a gone container was inspected %d times, want once", f.callsOf("gone"))
	}
	if c.NoContextEvents.Load() != 4 || c.InspectErrors.Load() != 1 || c.ContextTimeouts.Load() != 0 || c.CacheEntries.Load() != 0 {
		t.Errorf("without %d errors %d timeouts %d cache %d", c.NoContextEvents.Load(), c.InspectErrors.Load(), c.ContextTimeouts.Load(), c.CacheEntries.Load())
	}
}

func TestEnricherDestroyDropsAndEvicts(t *testing.T) {
	f := newFake()
	for k := 0; k < 5; k++ {
		f.add(fmt.Sprint("c", k), false)
	}
	e, s, c := newEnricher(t, Config{CacheSize: 3}, f)
	n := 0
	add := func(m string) string {
		e.Add([]byte(m), uint64(n))
		n++
		return s.wait(t, n, 10*time.Second)[n-1]
	}
	for k := 0; k < 5; k++ {
		add(msg("container", "create", fmt.Sprint("c", k), n))
	}
	if c.CacheEntries.Load() != 3 {
		t.Errorf("cache %d entries, want its size 3", c.CacheEntries.Load())
	}
	// c0 was evicted: inspected again; c4 destroyed: gone from the cache.
	m := msg("container", "start", "c0", n)
	if member(t, add(m), m) == "" || f.callsOf("c0") != 2 {
		t.Errorf("evicted c0: %d inspections", f.callsOf("c0"))
	}
	m = msg("container", "destroy", "c4", n)
	if member(t, add(m), m) == "" {
		t.Error("the destroy of a cached container goes without its context")
	}
	m = msg("container", "start", "c4", n)
	if member(t, add(m), m) == "" || f.callsOf("c4") != 2 {
		t.Errorf("c4 after its destroy: %d inspections, want 2", f.callsOf("c4"))
	}
}

func TestEnricherPodmanExec(t *testing.T) {
	f := newFake()
	f.add("p", false)
	f.sessions["p"] = []string{"s1"}
	f.cmds["s1"] = "sh -c id"
	f.cmds["s2"] = "sh -c 'exit 5'"
	f.cmds["s3"] = "sh -c 'exit 5'"
	e, s, _ := newEnricher(t, Config{}, f)
	podman := func(action string, k int) string {
		return msg("container", action, "p", k, `"podId":""`, `"containerExitCode":"0"`)
	}
	n := 0
	add := func(m string) string {
		e.Add([]byte(m), uint64(n))
		n++
		return member(t, s.wait(t, n, 10*time.Second)[n-1], m)
	}
	if m := add(podman("exec", n)); !strings.HasSuffix(m, `"exec":{"id":"s1","cmdline":"sh -c id"}}`) {
		t.Errorf("first exec: %s", m)
	}
	if m := add(podman("exec_died", n)); strings.Contains(m, `"exec"`) {
		t.Errorf("exec_died got an exec part: %s", m)
	}
	// A second exec: s1 is accounted for, s2 is the new one.
	f.sessions["p"] = []string{"s2", "s1"}
	if m := add(podman("exec", n)); !strings.HasSuffix(m, `"exec":{"id":"s2","cmdline":"sh -c 'exit 5'"}}`) {
		t.Errorf("second exec: %s", m)
	}
	// Two new sessions with different commands: which is which cannot be
	// told; with the same command, the command is known, the id not.
	f.cmds["s4"] = "other"
	f.sessions["p"] = []string{"s3", "s4"}
	if m := add(podman("exec", n)); strings.Contains(m, `"exec"`) {
		t.Errorf("ambiguous exec got a command: %s", m)
	}
	f.cmds["s4"] = "sh -c 'exit 5'"
	if m := add(podman("exec", n)); !strings.HasSuffix(m, `"exec":{"id":"","cmdline":"sh -c 'exit 5'"}}`) {
		t.Errorf("two new sessions of one command: %s", m)
	}
	// Docker's exec says its command: no lookup.
	m := msg("container", "exec_start: sh", "p", n)
	e.Add([]byte(m), uint64(n))
	n++
	if got := member(t, s.wait(t, n, 10*time.Second)[n-1], m); strings.Contains(got, `"exec"`) {
		t.Errorf("Docker's exec got an exec part: %s", got)
	}
}

// Containers that exist at connection are inspected before their first
// event; cached ones that are gone are forgotten.
func TestEnricherResync(t *testing.T) {
	f := newFake()
	f.add("old1", true)
	f.add("old2", false)
	f.list = []string{"old1", "old2"}
	e, s, c := newEnricher(t, Config{}, f)
	e.StartResync()
	deadline := time.Now().Add(10 * time.Second)
	for f.callsOf("old1") == 0 || f.callsOf("old2") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("existing containers not inspected")
		}
		time.Sleep(time.Millisecond)
	}
	m := msg("container", "kill", "old1", 0, `"signal":"9"`)
	e.Add([]byte(m), 0)
	if got := member(t, s.wait(t, 1, 10*time.Second)[0], m); !strings.Contains(got, `"privileged":true`) {
		t.Errorf("first event of a container that existed at connection: %s", got)
	}
	if f.callsOf("old1") != 1 {
		t.Errorf("old1 inspected %d times", f.callsOf("old1"))
	}
	f.mu.Lock()
	f.list = []string{"old1"}
	f.mu.Unlock()
	e.StartResync()
	deadline = time.Now().Add(10 * time.Second)
	for c.CacheEntries.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("cache holds %d entries after old2 went, want 1", c.CacheEntries.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// A list answered before a container's destroy and applied after it does
// not bring the container back: no second inspection, no stale entry.
func TestEnricherResyncAfterDestroy(t *testing.T) {
	f := newFake()
	f.add("c1", true)
	f.list = []string{"c1"}
	f.listGate = make(chan struct{})
	e, s, c := newEnricher(t, Config{}, f)
	e.StartResync()
	sent := []string{msg("container", "create", "c1", 0), msg("container", "destroy", "c1", 1)}
	for _, m := range sent {
		e.Add([]byte(m), 0)
	}
	s.wait(t, len(sent), 10*time.Second)
	close(f.listGate) // the list, as the daemon answered it before the destroy
	e.syncs.Wait()
	if n := f.callsOf("c1"); n != 1 {
		t.Errorf("c1 inspected %d times, want once", n)
	}
	if n := c.CacheEntries.Load(); n != 0 {
		t.Errorf("cache holds %d entries after c1's destroy, want 0", n)
	}
	// Once no resync runs, destroys are not remembered.
	e.Add([]byte(msg("container", "destroy", "c2", 2)), 0)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.destroyed != nil {
		t.Errorf("destroyed kept after the resync: %v", e.destroyed)
	}
}

// A container cached while the list is on its way (not in the list: it did
// not exist yet) is not forgotten by that list.
func TestEnricherResyncKeepsNewer(t *testing.T) {
	f := newFake()
	f.add("old", false)
	f.add("new", true)
	f.list = []string{"old"}
	f.listGate = make(chan struct{})
	e, s, c := newEnricher(t, Config{}, f)
	e.StartResync()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		f.mu.Lock()
		asked := f.lists > 0
		f.mu.Unlock()
		if asked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the list was not asked for")
		}
	}
	m := msg("container", "create", "new", 0)
	e.Add([]byte(m), 0)
	s.wait(t, 1, 10*time.Second)
	close(f.listGate)
	e.syncs.Wait()
	for deadline := time.Now().Add(10 * time.Second); f.callsOf("old") == 0 || c.CacheEntries.Load() != 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("cache holds %d entries (old inspected %d times), want old and new", c.CacheEntries.Load(), f.callsOf("old"))
		}
	}
	m = msg("container", "start", "new", 1)
	e.Add([]byte(m), 0)
	if got := member(t, s.wait(t, 2, 10*time.Second)[1], m); !strings.Contains(got, `"privileged":true`) {
		t.Errorf("start of new: member %s", got)
	}
	if n := f.callsOf("new"); n != 1 {
		t.Errorf("new inspected %d times, want once", n)
	}
}

// The waiting room is bounded: beyond MaxPending the oldest waiting event
// goes out without its context; nothing is dropped or reordered.
func TestEnricherBoundedPending(t *testing.T) {
	f := newFake()
	f.add("slow", false)
	gate := f.gate("slow")
	defer close(gate)
	e, s, c := newEnricher(t, Config{MaxPending: 4, Timeout: time.Minute}, f)
	var sent []string
	for k := 0; k < 10; k++ {
		sent = append(sent, msg("container", "start", "slow", k))
		e.Add([]byte(sent[k]), uint64(k))
	}
	got := s.wait(t, 6, 10*time.Second)
	for k := range got {
		if got[k] != sent[k] {
			t.Errorf("event %d: %s, want %s", k, got[k], sent[k])
		}
	}
	if c.ContextTimeouts.Load() != 6 {
		t.Errorf("timeouts %d, want 6", c.ContextTimeouts.Load())
	}
}

// An event that the context would make larger than maxEventSize goes as
// the daemon sent it.
func TestEnricherOversize(t *testing.T) {
	f := newFake()
	f.add("c", true)
	sent := msg("container", "start", "c", 0)
	e, s, c := newEnricher(t, Config{MaxEventSize: len(sent) + 20}, f)
	e.Add([]byte(sent), 0)
	if got := s.wait(t, 1, 10*time.Second)[0]; got != sent {
		t.Errorf("oversize enriched event delivered: %s", got)
	}
	if c.NoContextEvents.Load() != 1 {
		t.Errorf("without context %d, want 1", c.NoContextEvents.Load())
	}
}

// Close ends everything: pending events are dropped with the instance,
// workers and resyncs stop, Add does nothing afterwards.
func TestEnricherClose(t *testing.T) {
	f := newFake()
	f.add("slow", false)
	gate := f.gate("slow")
	defer close(gate)
	f.list = []string{"slow"}
	s := &sink{}
	c := &metrics.Counters{}
	e := New(Config{Timeout: time.Minute, Concurrency: 1, CacheSize: 8, MaxEventSize: 65536, MaxPending: 8}, c, quiet{}, s.deliver)
	e.SetInspector(f)
	e.StartResync()
	e.Add([]byte(msg("container", "start", "slow", 0)), 0)
	done := make(chan struct{})
	go func() { e.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	e.Add([]byte(msg("container", "start", "slow", 1)), 1)
	if len(s.got()) != 0 || c.CacheEntries.Load() != 0 {
		t.Errorf("after Close: %d delivered, cache %d", len(s.got()), c.CacheEntries.Load())
	}
}
