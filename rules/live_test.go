package rules

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/fields"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/dockertest"
)

// The rules against the real local daemon: containers of the test image are
// exec'd into, killed and run on the host network; the plugin's own live
// source (internal/source) reads the daemon's /events stream, and every
// event that concerns one of the test's containers is evaluated against
// every rule of docker_rules.yaml. Each event must trigger exactly the rules
// expected of it (most: none), the alerts must print their fields, and the
// tuning near misses are checked on the same live events.
//
// Without a daemon the test is skipped; in CI (CI set) it must run.

const (
	ruleShell    = "Docker Shell Exec Into Container"
	ruleExec     = "Docker Exec Into Container"
	ruleSIGKILL  = "Docker Container Killed With SIGKILL"
	ruleFatal    = "Docker Container Died From Fatal Signal"
	ruleHostNet  = "Docker Container Joined Host Network"
	ruleHostNS   = "Docker Container Shares Host Namespace"
	ruleStatusCh = "Container status changed"
)

// liveStream reads the daemon through the plugin's live source.
type liveStream struct {
	t      *testing.T
	src    *source.Live
	log    *sourcetest.Log
	events [][]byte
}

func openLiveStream(t *testing.T) *liveStream {
	t.Helper()
	cfg := config.Default()
	cfg.ReconnectMinMs, cfg.ReconnectMaxMs = 10, 200
	cfg.Filters = map[string][]string{"type": {"container", "network"}} // applied by the daemon
	log := &sourcetest.Log{}
	var lastMu sync.Mutex
	var last error
	env := source.Env{Config: cfg, Counters: &metrics.Counters{}, Log: log, SetLastError: func(err error) {
		lastMu.Lock()
		last = err
		lastMu.Unlock()
	}}
	src, err := source.OpenLive("", env, os.Getenv)
	if err != nil {
		t.Fatalf("OpenLive: %v", err)
	}
	s := &liveStream{t: t, src: src, log: log}
	t.Cleanup(func() { src.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.poll()
		if _, p := src.Progress(); strings.HasPrefix(p, "connected to ") {
			return s
		}
		if time.Now().After(deadline) {
			_, p := src.Progress()
			lastMu.Lock()
			defer lastMu.Unlock()
			t.Fatalf("the live source never connected: %q, last error %v\n%s", p, last, log)
		}
	}
}

func (s *liveStream) poll() {
	s.t.Helper()
	b := &sourcetest.Batch{Max: 64}
	switch err := s.src.Next(b, 20*time.Millisecond); err {
	case nil:
	case source.ErrTimeout:
		if b.Len() != 0 {
			s.t.Fatalf("Next returned ErrTimeout with %d events", b.Len())
		}
	default:
		s.t.Fatalf("Next: %v\n%s", err, s.log)
	}
	s.events = append(s.events, b.Events...)
}

// until polls until done holds for the events read so far.
func (s *liveStream) until(what string, timeout time.Duration, done func([][]byte) bool, dump func() string) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !done(s.events) {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %s waiting for %s; the daemon sent, for our objects:\n%s\nsource log:\n%s", timeout, what, dump(), s.log)
		}
		s.poll()
	}
}

// liveObj is one container the test drives, by role.
type liveObj struct {
	role, name, id string
}

// ourEvent is one daemon event about one of the test's containers.
type ourEvent struct {
	obj     liveObj
	key     string // role, type, action, and the attributes the rules read
	payload []byte
	src     *eventSource
	fired   []string
}

func (e ourEvent) str(t *testing.T, field string) string {
	t.Helper()
	i := slices.IndexFunc(fields.Table, func(f fields.Field) bool { return f.Name == field })
	if i < 0 {
		t.Fatalf("unknown field %s", field)
	}
	vals, err := e.src.values(fieldRef{def: fields.Table[i]})
	if err != nil {
		t.Fatalf("%s: %v", field, err)
	}
	if len(vals) == 0 {
		return "<NA>"
	}
	return vals[0].String()
}

// TestRulesOnLiveDaemon: exec, kill and network rules on what a real daemon
// sends.
func TestRulesOnLiveDaemon(t *testing.T) {
	dockertest.Require(t)
	img := dockertest.Image(t)
	api := dockertest.APIVersion(t)
	nonce := dockertest.Nonce()
	dockertest.Cleanup(t, nonce)
	label := dockertest.Label + "=" + nonce

	rs := loadRules(t)
	cs := &compiledSets{rs: rs, cache: map[string][]compiledRule{}}
	rules := cs.get(t, nil, nil)

	stream := openLiveStream(t)

	run := func(role string, extra ...string) liveObj {
		t.Helper()
		name := "fdp-" + role + "-" + nonce
		args := append([]string{"run", "-d", "--name", name, "--label", label}, extra...)
		id := dockertest.Docker(t, append(args, img)...)
		return liveObj{role: role, name: name, id: id}
	}

	// r: exec'd into, then SIGKILLed.
	r := run("r")
	dockertest.Docker(t, "exec", r.name, "sh", "-c", "id")        // exec_start: sh -c id
	dockertest.Docker(t, "exec", "-d", r.name, "sh")              // exec_start: sh  (moby's trailing space)
	dockertest.Docker(t, "exec", "-d", r.name, "/bin/sh")         // exec_start: /bin/sh
	dockertest.Docker(t, "exec", r.name, "/bin/sh", "exit", "0")  // a shell by path, not the probe shape
	dockertest.Docker(t, "exec", r.name, "/bin/sh", "-c", "true") // the CMD-SHELL health-probe shape
	dockertest.Docker(t, "exec", r.name, "/testbox", "exit", "0") // not a shell
	if _, err := dockertest.DockerMayFail("exec", r.name, "/testbox", "exit", "134"); err == nil {
		t.Errorf("docker exec ... exit 134 succeeded")
	}
	dockertest.Docker(t, "kill", "-s", "KILL", r.name)
	if code := dockertest.Docker(t, "wait", r.name); code != "137" {
		t.Errorf("docker wait %s after SIGKILL: %s, want 137", r.name, code)
	}
	dockertest.Docker(t, "rm", r.name)

	// t: SIGTERM, which the test image handles (exit 0): the near miss.
	term := run("t")
	dockertest.Docker(t, "kill", "-s", "TERM", term.name)
	if code := dockertest.Docker(t, "wait", term.name); code != "0" {
		t.Errorf("docker wait %s after SIGTERM: %s, want 0", term.name, code)
	}
	dockertest.Docker(t, "rm", term.name)

	// h: on the host network, removed with rm -f (SIGKILL).
	h := run("h", "--network", "host")
	dockertest.Docker(t, "rm", "-f", h.name)

	objs := []liveObj{r, term, h}
	byID := map[string]liveObj{}
	for _, o := range objs {
		byID[o.id] = o
	}

	// Our events, in the order the daemon sent them.
	ours := func(events [][]byte) []ourEvent {
		var out []ourEvent
		for _, p := range events {
			src := newEventSource(p)
			if !src.ev.Valid() {
				t.Fatalf("the plugin does not parse what the daemon sent: %s", p)
			}
			e := ourEvent{payload: p, src: src}
			typ := e.str(t, "docker.type")
			var o liveObj
			var ok bool
			switch typ {
			case "container":
				o, ok = byID[e.str(t, "docker.container.id")]
			case "network":
				o, ok = byID[e.str(t, "docker.attributes.container")]
			}
			if !ok {
				continue // another client's activity on the daemon
			}
			e.obj = o
			e.key = o.role + " " + typ + " " + e.str(t, "docker.action")
			for _, a := range []struct{ show, field string }{
				{"signal", "docker.container.signal"},
				{"exitCode", "docker.attributes.exitcode"},
				{"network", "docker.network.name"},
			} {
				if v := e.str(t, a.field); v != "<NA>" {
					e.key += " " + a.show + "=" + v
				}
			}
			out = append(out, e)
		}
		return out
	}
	dump := func() string {
		var b strings.Builder
		for _, e := range ours(stream.events) {
			fmt.Fprintf(&b, "  %s\n", e.payload)
		}
		return b.String()
	}
	destroyed := func(events [][]byte) bool {
		n := 0
		for _, e := range ours(events) {
			if e.str(t, "docker.action") == "destroy" && e.str(t, "docker.type") == "container" {
				n++
			}
		}
		return n == len(objs)
	}
	stream.until("the destroy of our 3 containers", 90*time.Second, destroyed, dump)

	// What each of our events must trigger; an event not listed must trigger
	// nothing. required: the events that must have arrived.
	want := map[string][]string{
		"r container create":                        {ruleStatusCh},
		"r container start":                         {ruleStatusCh},
		"r container exec_start: sh -c id":          {ruleShell},
		"r container exec_start: sh ":               {ruleShell},
		"r container exec_start: /bin/sh ":          {ruleShell},
		"r container exec_start: /bin/sh exit 0":    {ruleShell},
		"r container exec_start: /bin/sh -c true":   {ruleExec},
		"r container exec_start: /testbox exit 0":   {ruleExec},
		"r container exec_start: /testbox exit 134": {ruleExec},
		"r container kill signal=9":                 {ruleSIGKILL},
		"r container die exitCode=137":              {ruleFatal, ruleStatusCh},
		"t container create":                        {ruleStatusCh},
		"t container start":                         {ruleStatusCh},
		"t container die exitCode=0":                {ruleStatusCh},
		"h container create":                        {ruleStatusCh},
		"h container start":                         {ruleStatusCh, ruleHostNS}, // its context says host network
		"h network connect network=host":            {ruleHostNet},
		"h container kill signal=9":                 {ruleSIGKILL},
		"h container die exitCode=137":              {ruleFatal, ruleStatusCh},
	}
	required := []string{
		"r network connect network=bridge",
		"r container exec_create: sh -c id", "r container exec_die exitCode=0",
		"r container exec_create: sh ",
		"r container exec_die exitCode=134", // an exec exiting 134 (128+SIGABRT): exec_die, no fatal-signal alert
		"r network disconnect network=bridge", "r container destroy",
		"t container kill signal=15", // SIGTERM: no SIGKILL alert
		"t network connect network=bridge", "t network disconnect network=bridge", "t container destroy",
		"h network disconnect network=host", "h container destroy",
	}
	for k := range want {
		required = append(required, k)
	}
	slices.Sort(required)

	events := ours(stream.events)
	seen := map[string]int{}
	fired := map[string]int{}
	bad := false
	for i := range events {
		e := &events[i]
		seen[e.key]++
		e.fired = triggered(t, rules, string(e.payload))
		exp := slices.Clone(want[e.key])
		slices.Sort(exp)
		if !slices.Equal(e.fired, exp) {
			bad = true
			t.Errorf("%s: triggered %q, want %q\n  %s", e.key, e.fired, exp, e.payload)
		}
		for _, name := range e.fired {
			fired[name]++
			r, _ := rs.rule(name)
			out, na, err := renderOutput(r.Output, e.src)
			if err != nil {
				t.Fatal(err)
			}
			if len(na) > 0 {
				t.Errorf("%s: %s prints <NA> for %v: %s", e.key, name, na, out)
			}
			t.Logf("%s [%s] on %s: %s", name, r.Priority, e.key, out)
		}
	}
	for _, k := range required {
		if seen[k] == 0 {
			bad = true
			t.Errorf("the daemon sent no %q", k)
		}
	}
	for _, name := range []string{ruleShell, ruleExec, ruleSIGKILL, ruleFatal, ruleHostNet, ruleStatusCh} {
		if fired[name] == 0 {
			t.Errorf("%s never fired", name)
		}
	}
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "  %-45s %q\n", e.key, e.fired)
		if bad || e.key == "h network connect network=host" {
			fmt.Fprintf(&b, "    %s\n", e.payload)
		}
	}
	t.Logf("the daemon (API %s) sent, for our containers (key, rules triggered):\n%s", api, b.String())

	// The fields behind the exec rules, as the daemon sent them.
	check := func(key, field, want string) {
		t.Helper()
		for _, e := range events {
			if e.key == key {
				if got := e.str(t, field); got != want {
					t.Errorf("%s: %s = %q, want %q: %s", key, field, got, want, e.payload)
				}
				return
			}
		}
	}
	check("r container exec_start: sh ", "docker.action", "exec_start: sh ")
	check("r container exec_start: sh ", "docker.exec.cmdline", "sh")
	check("r container exec_start: sh ", "docker.action.args", "sh")
	check("r container exec_start: sh ", "docker.exec.exe", "sh")
	check("r container exec_create: sh ", "docker.exec.exe", "sh")
	check("r container exec_start: /bin/sh ", "docker.exec.exe", "/bin/sh")
	check("r container exec_start: /bin/sh ", "docker.exec.cmdline", "/bin/sh")
	check("r container exec_start: sh -c id", "docker.exec.exe", "sh")
	check("r container exec_start: sh -c id", "docker.exec.cmdline", "sh -c id")
	check("r container exec_start: /testbox exit 0", "docker.exec.exe", "/testbox")
	check("r container exec_die exitCode=0", "docker.exec.exe", "<NA>")
	check("r container die exitCode=137", "docker.container.exitcode", "137")
	check("r container die exitCode=137", "docker.container.name", r.name)
	check("h network connect network=host", "docker.network.driver", "host")
	check("h network connect network=host", "docker.container.id", h.id)

	// Tuning, on the same live events: a listed probe and a known host-network
	// container raise nothing.
	tuned := []struct {
		key    string
		lists  map[string][]string
		macros map[string]string
	}{
		{"r container exec_start: /bin/sh -c true", map[string][]string{"docker_known_healthcheck_cmdlines": {"/bin/sh -c true"}}, nil},
		{"r container exec_start: sh ", nil, map[string]string{"docker_user_known_exec": "(docker.container.name = " + r.name + ")"}},
		{"h network connect network=host", nil, map[string]string{"docker_user_known_host_network": "(docker.container.id = " + h.id + ")"}},
		{"h container kill signal=9", nil, map[string]string{"docker_user_known_kill": "(docker.container.name startswith fdp-h-)"}},
	}
	for _, tc := range tuned {
		for _, e := range events {
			if e.key != tc.key {
				continue
			}
			if got := triggered(t, cs.get(t, tc.lists, tc.macros), string(e.payload)); len(got) != 0 {
				t.Errorf("%s with %v %v: triggered %q, want nothing", tc.key, tc.lists, tc.macros, got)
			}
			break
		}
	}
	t.Logf("daemon API %s: %d events read, %d for our containers", api, len(stream.events), len(events))
}
