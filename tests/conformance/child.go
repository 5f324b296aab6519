package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// ChildMain runs the plugin side of the suite when this process is a child
// started by Run (and exits); otherwise it returns at once. Call it first
// in main, or in TestMain before anything loads a plugin.
func ChildMain() {
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	os.Unsetenv(childEnv)
	var opts Options
	if err := json.Unmarshal([]byte(v), &opts); err != nil {
		fmt.Fprintln(os.Stderr, "conformance child: bad options:", err)
		os.Exit(3)
	}
	opts.defaults()
	syscall.CloseOnExec(3)
	c := &child{opts: opts, out: os.NewFile(3, "conformance"), f: newFindings(), done: map[string]bool{}, faulted: map[string]bool{}}
	for _, id := range opts.Done {
		c.done[id] = true
	}
	for _, id := range opts.Faulted {
		c.faulted[id] = true
	}
	c.skipField, c.badField = map[string]bool{}, map[string]bool{}
	for _, n := range opts.SkipFields {
		c.skipField[n] = true
	}
	c.loop = loopStats{rcs: map[int32]int{}, valued: map[uint32]bool{}, extractCalls: map[string]int{}, lastPct: -1}
	c.guard(c.run)
	c.send(message{T: "done"})
	os.Exit(0)
}

// guard runs f and turns a panic of the suite's own code into an internal
// error for the parent: it must not pass for a crash of the plugin. (A
// panic inside the plugin happens in its own runtime and kills the
// process: it never reaches this recover.)
func (c *child) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.send(message{T: "internal", Reason: fmt.Sprintf("%v\n%s", r, debug.Stack())})
			os.Exit(4)
		}
	}()
	f()
}

// findings accumulates what checks found, grouped by a key so that one
// violation seen on a thousand events is one line with a count.
type findings struct {
	mu sync.Mutex
	m  map[string]*finding
}

type finding struct {
	status Status
	keys   []string
	lines  map[string]string
	kstat  map[string]Status
	count  map[string]int
	notes  []string
}

func newFindings() *findings { return &findings{m: map[string]*finding{}} }

func (f *findings) get(id string) *finding {
	x := f.m[id]
	if x == nil {
		x = &finding{status: Pass, lines: map[string]string{}, kstat: map[string]Status{}, count: map[string]int{}}
		f.m[id] = x
	}
	return x
}

// add records a finding of status s under key (first message kept).
func (f *findings) add(id string, s Status, key, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.get(id)
	if s.rank() > x.status.rank() {
		x.status = s
	}
	if _, ok := x.lines[key]; !ok {
		x.keys = append(x.keys, key)
		x.lines[key] = fmt.Sprintf(format, args...)
		x.kstat[key] = s
	}
	x.count[key]++
}

func (f *findings) fail(id, key, format string, args ...any) { f.add(id, Fail, key, format, args...) }
func (f *findings) warn(id, key, format string, args ...any) { f.add(id, Warn, key, format, args...) }
func (f *findings) info(id, format string, args ...any) {
	f.add(id, Info, fmt.Sprintf(format, args...), format, args...)
}

// note adds a detail line that does not change the status.
func (f *findings) note(id, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.get(id)
	x.notes = append(x.notes, fmt.Sprintf(format, args...))
}

// status is the worst status recorded for id (PASS when none).
func (f *findings) status(id string) Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get(id).status
}

const maxDetailKinds = 12

// result builds the result of id: problems first (with counts), then notes.
func (f *findings) result(id string) Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	x := f.get(id)
	r := Result{Check: check(id), Status: x.status}
	// Worst first, then in the order seen.
	keys := append([]string(nil), x.keys...)
	sort.SliceStable(keys, func(i, j int) bool { return x.kstat[keys[i]].rank() > x.kstat[keys[j]].rank() })
	for n, k := range keys {
		if n == maxDetailKinds {
			r.Details = append(r.Details, fmt.Sprintf("... and %d more kinds of finding", len(keys)-n))
			break
		}
		line := x.lines[k]
		if c := x.count[k]; c > 1 {
			line += fmt.Sprintf(" (x%d)", c)
		}
		r.Details = append(r.Details, line)
	}
	r.Details = append(r.Details, x.notes...)
	return r
}

// child is the process that loads the plugin and runs the checks.
type child struct {
	opts      Options
	out       *os.File
	outMu     sync.Mutex
	f         *findings
	done      map[string]bool // reported (by an earlier child or this one)
	faulted   map[string]bool // crashed or hung in an earlier child
	skipField map[string]bool // fields whose extraction crashed before
	badField  map[string]bool // fields extract.values found broken
	p         *harness.Plugin
	m         meta
	// plugin state and the main instance
	state    harness.State
	inst     harness.Instance
	opened   bool
	initCfg  string
	lastErrs []lastErrObs
	loop     loopStats
	metrics  [][]metric // snapshots for the metrics check
}

func (c *child) send(m message) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	c.out.Write(append(b, '\n'))
}

// batchFaulted names the check that reported next_batch crashing or
// hanging in an earlier child ("" if none): the calls are not made again.
func (c *child) batchFaulted() string {
	for _, id := range []string{"next-batch.contract", "next-batch.blocking"} {
		if c.faulted[id] {
			return id
		}
	}
	return ""
}

// want reports whether check id still has to run.
func (c *child) want(id string) bool { return !c.done[id] }

// phase announces the checks the next steps will report: if the plugin
// faults again in a check already reported, the parent skips these.
func (c *child) phase(ids ...string) {
	var w []string
	for _, id := range ids {
		if c.want(id) {
			w = append(w, id)
		}
	}
	c.send(message{T: "phase", Checks: w})
}

// crumb tells the parent which plugin call is about to run, and which
// check a crash (check) or a hang (hang, "" for the same) is charged to.
func (c *child) crumb(check, hang, call, field string) {
	c.send(message{T: "crumb", Check: check, HangCheck: hang, Call: call, Field: field})
}

// sideCrumb names the call on the concurrent thread ("" when it returned).
func (c *child) sideCrumb(call string) { c.send(message{T: "crumb", Side: true, Call: call}) }

// report sends the results of the given checks (those still wanted).
func (c *child) report(ids ...string) {
	for _, id := range ids {
		if !c.want(id) {
			continue
		}
		r := c.f.result(id)
		c.send(message{T: "result", Result: &r})
		c.done[id] = true
	}
}

// skip reports checks that cannot run, with the reason.
func (c *child) skip(reason string, ids ...string) {
	var w []string
	for _, id := range ids {
		if c.want(id) {
			w = append(w, id)
			c.done[id] = true
		}
	}
	if len(w) > 0 {
		c.send(message{T: "skip", Checks: w, Reason: reason})
	}
}

// skipRest skips every check not yet reported.
func (c *child) skipRest(reason string) {
	var ids []string
	for _, x := range Catalog {
		ids = append(ids, x.ID)
	}
	c.skip(reason, ids...)
}

func (c *child) run() {
	c.phase("load")
	if c.faulted["load"] {
		c.skipRest("the library crashes or hangs when loaded (see load)")
		return
	}
	c.crumb("load", "", "dlopen", "")
	p, err := harness.Load(c.opts.Plugin)
	if err != nil {
		c.f.fail("load", "dlopen", "%v", err)
		c.report("load")
		c.skipRest("the library does not load")
		return
	}
	c.p = p
	c.f.note("load", "dlopen(RTLD_LOCAL|RTLD_NOW) ok")
	c.report("load")
	if !c.static() {
		return
	}
	c.behaviour()
}
