package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/versions"

	"github.com/falco-docker/docker-plugin/tests/dockertest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// The engine scenario: one sequence of operations run against every
// engine of the matrix (tests/dockertest: the system Docker 20.10, a Docker
// Engine from moby v2, a Podman service), read live through the ABI, and
// replayed offline from the corpora it recorded (testdata/engines).
//
// Recording: FDP_RECORD=1 make harness (or go test -run TestEngineScenario
// ./tests/ with DOCKER_PLUGIN_SO set) rewrites testdata/engines/<engine>.jsonl
// with the events of a run whose nonce is recordedNonce: TestEngineCorpora
// checks the same expectations on them, offline.

const recordedNonce = "000recorded0"

// scenario names the objects of one run: every name carries the nonce.
type scenario struct {
	nonce string
}

func (s scenario) c() string       { return "fdp-c-" + s.nonce } // run, exec'd into, SIGKILLed
func (s scenario) exited() string  { return "fdp-e-" + s.nonce } // exits 3
func (s scenario) netC() string    { return "fdp-d-" + s.nonce } // on network n, stopped
func (s scenario) network() string { return "fdp-n-" + s.nonce }
func (s scenario) volume() string  { return "fdp-v-" + s.nonce }
func (s scenario) health() string  { return "fdp-h-" + s.nonce } // health-checked
func (s scenario) tagged() string  { return "fdp-t-" + s.nonce + ":t1" }
func (s scenario) imported() string {
	return "fdp-i-" + s.nonce + ":v1"
}
func (s scenario) saved() string     { return "fdp-s-" + s.nonce + ":s1" }
func (s scenario) committed() string { return "fdp-k-" + s.nonce + ":k1" }
func (s scenario) local() string     { return "localhost/fdp-l-" + s.nonce + ":1" } // Podman: a local image its run "pulls"
func (s scenario) podmanRun() string { return "fdp-p-" + s.nonce }                  // podman run of a local image: a pull
func (s scenario) pod() string       { return "fdp-pod-" + s.nonce }
func (s scenario) end() string       { return "fdp-end-" + s.nonce } // the last event: a volume
func (s scenario) label() string     { return dockertest.Label + "=" + s.nonce }
func (s scenario) hostNet() string   { return "fdp-hn-" + s.nonce } // on the host's network
func (s scenario) oom() string       { return "fdp-o-" + s.nonce }  // killed by the OOM killer

// ctxRun is one container of the scenario started with a setting the
// container context reports, and the check of its start event.
type ctxRun struct {
	role string   // its name is fdp-<role>-<nonce>
	args []string // docker run options
	// podmanCLI: the docker CLI cannot give Podman's compatible API this
	// option (--device: "unknown server OS"): podman's own CLI does.
	podmanCLI bool
	want      func(k dockertest.Kind) want
}

func (s scenario) ctxName(role string) string { return "fdp-" + role + "-" + s.nonce }

// ctxRuns: one container per setting of the container context (and the
// ordinary container c and the host-network one of the scenario).
var ctxRuns = []ctxRun{
	// --user: privileged root fails to start on Docker 20.10 here ("unable
	// to apply caps": the test machines' bounding set lacks capabilities a
	// privileged container asks for); a non-root process gets none applied.
	{role: "cp", args: []string{"--privileged", "--user", "1000"}, want: func(dockertest.Kind) want {
		return want{"docker.container.privileged": "true", "docker.container.host_pid": "false", "docker.container.user": "1000"}
	}},
	{role: "cs", args: []string{"-v", "/var/run/docker.sock:/var/run/docker.sock"}, want: func(dockertest.Kind) want {
		return want{"docker.container.mounts": "/var/run/docker.sock:/var/run/docker.sock:rw", "docker.container.mount.sources": "/var/run/docker.sock",
			"docker.container.mount.dest[/var/run/docker.sock]": "/var/run/docker.sock", "docker.container.mount.source[/host]": NA,
			"docker.container.privileged": "false"}
	}},
	{role: "cr", args: []string{"-v", "/:/host:ro"}, want: func(dockertest.Kind) want {
		return want{"docker.container.mounts": "/:/host:ro", "docker.container.mount.sources": "/", "docker.container.mount.source[/host]": "/",
			"docker.container.mount.dest[/var/run/docker.sock]": NA}
	}},
	{role: "cx", args: []string{"--pid", "host"}, want: func(dockertest.Kind) want {
		return want{"docker.container.host_pid": "true", "docker.container.host_network": "false"}
	}},
	{role: "ci", args: []string{"--ipc", "host"}, want: func(k dockertest.Kind) want {
		if k == dockertest.KindPodman {
			// Podman 4 reports IpcMode shareable whatever it is: unknown.
			return want{"docker.container.host_ipc": NA, "docker.container.host_pid": "false"}
		}
		return want{"docker.container.host_ipc": "true", "docker.container.host_pid": "false"}
	}},
	{role: "cc", args: []string{"--cap-add", "SYS_ADMIN"}, want: func(dockertest.Kind) want {
		return want{"docker.container.cap_add": "SYS_ADMIN", "docker.container.privileged": "false"}
	}},
	{role: "cz", args: []string{"--security-opt", "seccomp=unconfined"}, want: func(dockertest.Kind) want {
		return want{"docker.container.security_opt": "seccomp=unconfined"}
	}},
	{role: "cd", args: []string{"--device", "/dev/null:/dev/xnull"}, podmanCLI: true, want: func(dockertest.Kind) want {
		return want{"docker.container.devices": "/dev/null"}
	}},
	{role: "co", args: []string{"--read-only"}, want: func(dockertest.Kind) want {
		return want{"docker.container.readonly_rootfs": "true", "docker.container.user": ""}
	}},
	{role: "cu", args: []string{"--user", "1000"}, want: func(dockertest.Kind) want {
		return want{"docker.container.user": "1000", "docker.container.readonly_rootfs": "false"}
	}},
}

// runContext starts the context containers (and the host-network one),
// waits until the plugin has read their start events (started), execs into
// the privileged one and removes them all. The wait matters on Podman: its
// events arrive 80-360 ms late, and a container removed by then is gone
// before the plugin can inspect it (its events go without the context).
func (s scenario) runContext(t *testing.T, e *dockertest.Engine, img string, started func(names ...string)) {
	names := []string{s.hostNet()}
	e.Docker(t, "run", "-d", "--name", s.hostNet(), "--label", s.label(), "--network", "host", img)
	for _, r := range ctxRuns {
		args := append([]string{"run", "-d", "--name", s.ctxName(r.role), "--label", s.label()}, r.args...)
		args = append(args, img)
		if r.podmanCLI && e.Kind == dockertest.KindPodman {
			e.Podman(t, args...)
		} else {
			e.Docker(t, args...)
		}
		names = append(names, s.ctxName(r.role))
	}
	started(names...)
	e.Docker(t, "exec", s.ctxName("cp"), "sh", "-c", "id")
	e.Docker(t, append([]string{"rm", "-f"}, names...)...)
}

// run performs the scenario on e; started waits until the plugin has read
// the start events of the named containers.
func (s scenario) run(t *testing.T, e *dockertest.Engine, started func(names ...string)) {
	img := e.Image(t)
	l := s.label()
	e.Docker(t, "run", "-d", "--name", s.c(), "--label", l, img)
	e.Docker(t, "exec", s.c(), "sh", "-c", "id")
	e.DockerMayFail("exec", s.c(), "sh", "-c", "exit 5") // the exec exits 5
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "in.txt"), []byte("x"), 0o644)
	e.Docker(t, "cp", filepath.Join(dir, "in.txt"), s.c()+":/tmp/in.txt")
	e.Docker(t, "cp", s.c()+":/tmp/in.txt", filepath.Join(dir, "out.txt"))
	e.Docker(t, "export", "-o", filepath.Join(dir, "export.tar"), s.c())
	e.Docker(t, "pause", s.c())
	e.Docker(t, "unpause", s.c())
	e.Docker(t, "kill", "-s", "KILL", s.c())
	e.Docker(t, "wait", s.c())
	// Before each removal: the plugin has read the container's start, so
	// it could inspect the container while it existed (Podman's events
	// arrive 80-360 ms late: one removed sooner has no context to give).
	started(s.c())
	e.Docker(t, "rm", s.c())

	e.DockerMayFail("run", "--name", s.exited(), "--label", l, img, "exit", "3") // exits 3: an error for the CLI
	started(s.exited())
	e.Docker(t, "rm", s.exited())

	e.Docker(t, "network", "create", "--label", l, s.network())
	e.Docker(t, "run", "-d", "--name", s.netC(), "--label", l, img)
	e.Docker(t, "network", "connect", s.network(), s.netC())
	e.Docker(t, "network", "disconnect", s.network(), s.netC())
	if e.Kind == dockertest.KindPodman {
		// Its compatible endpoint refuses the docker CLI's commit
		// ("Decode(): EOF").
		e.Podman(t, "commit", s.netC(), s.committed())
	} else {
		e.Docker(t, "commit", s.netC(), s.committed())
	}
	e.Docker(t, "rmi", s.committed())
	e.Docker(t, "stop", "-t", "1", s.netC())
	started(s.netC())
	e.Docker(t, "rm", s.netC())
	e.Docker(t, "network", "rm", s.network())

	e.Docker(t, "volume", "create", "--label", l, s.volume())
	e.Docker(t, "volume", "rm", s.volume())

	s.runContext(t, e, img, started)
	e.DockerMayFail("run", "--name", s.oom(), "--label", l, "--memory", "32m", "--memory-swap", "32m", img, "alloc") // killed: an error for the CLI
	started(s.oom())
	e.Docker(t, "rm", s.oom())
	if e.Kind == dockertest.KindMoby {
		e.Reload(t) // SIGHUP: a daemon reload event (the system daemon is never reconfigured)
	}

	e.Docker(t, "tag", img, s.tagged())
	e.Docker(t, "rmi", s.tagged())
	e.Docker(t, "import", emptyTar(t), s.imported())
	e.Docker(t, "rmi", s.imported())
	archive := filepath.Join(t.TempDir(), "saved.tar")
	e.Docker(t, "tag", img, s.saved())
	e.Docker(t, "save", "-o", archive, s.saved())
	e.Docker(t, "rmi", s.saved())
	if e.Kind == dockertest.KindPodman {
		e.Podman(t, "load", "-i", archive) // its compatible endpoint's load sends no event
	} else {
		e.Docker(t, "load", "-i", archive)
	}
	e.Docker(t, "rmi", s.saved())
	e.Docker(t, "image", "prune", "-f", "--filter", "label="+l) // nothing to prune: an event without Actor.ID

	// A health check that passes: Docker runs it by itself (exec events
	// every interval); Podman needs a timer it has not here, so it is run
	// through its own CLI.
	e.Docker(t, "run", "-d", "--name", s.health(), "--label", l, "--health-cmd", "exit 0", "--health-interval", "1s", img)
	if e.Kind == dockertest.KindPodman {
		e.Podman(t, "healthcheck", "run", s.health())
	} else {
		deadline := time.Now().Add(time.Minute)
		for e.Docker(t, "inspect", "--format", "{{.State.Health.Status}}", s.health()) != "healthy" {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the health check never passed", s.health())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	started(s.health())
	e.Docker(t, "rm", "-f", s.health())

	if e.Kind == dockertest.KindPodman {
		// Podman's own run pulls (a pull event even for a local image);
		// pods exist only there.
		e.Podman(t, "tag", img, s.local())
		e.Podman(t, "run", "-d", "--name", s.podmanRun(), "--label", l, s.local())
		started(s.podmanRun()) // not removed before the plugin could inspect it
		e.Podman(t, "rm", "-f", s.podmanRun())
		e.Podman(t, "rmi", s.local())
		e.Podman(t, "pod", "create", "--infra=false", "--label", l, "--name", s.pod())
		e.Podman(t, "pod", "rm", s.pod())
	}

	e.Docker(t, "volume", "create", "--label", l, s.end())
	e.Docker(t, "volume", "rm", s.end())
}

// ours picks the scenario's events from evts (the engine may have other
// clients): those whose payload names the nonce; then those naming the id
// of a container or image of those (Docker's untag names the image by id,
// its network events the container); and image prunes, Podman's loads and
// daemon reloads (they name nothing of ours).
func (s scenario) ours(evts []liveEvent) []liveEvent {
	ids := map[string]bool{}
	for _, ev := range evts {
		if bytes.Contains(ev.payload, []byte(s.nonce)) {
			for _, f := range []string{"docker.id", "docker.container.id"} {
				if id := ev.str(f); id != "<NA>" && len(id) >= 12 {
					ids[id] = true
				}
			}
		}
	}
	var out []liveEvent
	for _, ev := range evts {
		keep := bytes.Contains(ev.payload, []byte(s.nonce)) || ev.str("docker.type") == "daemon" ||
			(ev.str("docker.type") == "image" && (ev.str("docker.action.name") == "prune" || ev.str("docker.action.name") == "load"))
		for id := range ids {
			keep = keep || bytes.Contains(ev.payload, []byte(id))
		}
		if keep {
			out = append(out, ev)
		}
	}
	return out
}

// isEnd is the scenario's last event: the end volume's removal.
func (s scenario) isEnd(e liveEvent) bool {
	return e.str("docker.type") == "volume" && e.str("docker.action.name") == "destroy" &&
		bytes.Contains(e.payload, []byte(s.end()))
}

// TestEngineScenario runs the scenario on every engine and reads it
// through the ABI: one plugin state with a server-side type filter, one
// with a label filter.
func TestEngineScenario(t *testing.T) {
	needDocker(t)
	record := os.Getenv("FDP_RECORD") != ""
	dockertest.ForEachEngine(t, func(t *testing.T, e *dockertest.Engine) {
		s := scenario{nonce: dockertest.Nonce()}
		if record {
			s.nonce = recordedNonce
		}
		e.Cleanup(t, s.nonce)
		// inspectTimeoutMs: the test checks the context of every event of
		// its containers; a loaded machine must not make one go without.
		all := newLiveReader(t, `{"inspectTimeoutMs":15000,"filters":{"type":["container","network","volume","image","pod","daemon"]}}`, e.Endpoint())
		labelled := newLiveReader(t, fmt.Sprintf(`{"inspectTimeoutMs":15000,"filters":{"label":[%q]}}`, s.label()), e.Endpoint())
		all.waitConnected()
		labelled.waitConnected()
		s.run(t, e, func(names ...string) {
			pollUntil(t, "the start of "+strings.Join(names, ", "), 2*time.Minute, func() bool {
				for _, n := range names {
					if !all.has(sel("container", "start", n)) {
						return false
					}
				}
				return true
			}, all, labelled)
		})
		isEndC := func(ev liveEvent) bool {
			return ev.str("docker.container.name") == s.health() && ev.str("docker.action.name") == "destroy"
		}
		pollUntil(t, "the scenario's last events", 2*time.Minute, func() bool { return all.has(s.isEnd) && labelled.has(isEndC) }, all, labelled)
		all.settle(300 * time.Millisecond)
		ours := s.ours(all.evts)
		if os.Getenv("FDP_DUMP") != "" {
			for _, ev := range ours {
				t.Logf("%s", ev.payload)
			}
		}
		if record {
			var b bytes.Buffer
			for _, ev := range ours {
				b.Write(ev.payload)
				b.WriteByte('\n')
			}
			path := filepath.Join("testdata", "engines", e.Name+".jsonl")
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("recorded %d events into %s", len(ours), path)
		}
		checkScenario(t, e.Kind, s, ours)
		checkLabelFilter(t, s, labelled.evts)
		for _, typ := range []string{"container", "network", "volume", "image", "pod", "daemon"} {
			if (e.Kind != dockertest.KindPodman && typ == "pod") || (e.Kind != dockertest.KindMoby && typ == "daemon") {
				continue
			}
			if !all.has(func(ev liveEvent) bool { return ev.str("docker.type") == typ }) {
				t.Errorf("no %s event through the type filter", typ)
			}
		}
		for _, ev := range all.evts {
			switch typ := ev.str("docker.type"); typ {
			case "container", "network", "volume", "image", "pod", "daemon":
			default:
				t.Errorf("the type filter let a %q event through: %s", typ, ev.payload)
			}
		}
		// Metrics are the operator's evidence: they match what was read
		// (once the events received have all been delivered: one may still
		// wait for its container's context).
		for _, r := range []*liveReader{all, labelled} {
			r.drained(30 * time.Second)
			m := plug.MetricsMap(r.s)
			if m["events_delivered"] != uint64(len(r.evts)) || m["events_received"] != uint64(len(r.evts)) {
				t.Errorf("metrics received=%d delivered=%d, the harness read %d", m["events_received"], m["events_delivered"], len(r.evts))
			}
			for _, k := range []string{"events_dropped", "events_malformed", "events_oversize", "events_duplicate", "extract_errors", "panics"} {
				if m[k] != 0 {
					t.Errorf("metric %s = %d, want 0", k, m[k])
				}
			}
		}
		if _, p := plug.Progress(all.s, all.i); !strings.Contains(p, "API "+negotiated(e.API)+")") {
			t.Errorf("progress %q: want the negotiated API version %s", p, negotiated(e.API))
		}
		// What the plugin reads at the negotiated version: JSON lines, as
		// application/jsonl from API 1.52 on.
		now := time.Now().Unix()
		resp := e.Get(t, fmt.Sprintf("/v%s/events?since=%d&until=%d", negotiated(e.API), now-1, now))
		wantCT := "application/json"
		if e.Kind == dockertest.KindMoby {
			wantCT = "application/jsonl"
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != wantCT {
			t.Errorf("GET /events at API %s: %s, Content-Type %q, want 200 and %s", negotiated(e.API), resp.Status, ct, wantCT)
		}
		t.Logf("%s (API %s): %d events of ours, %d through the label filter", e.Name, e.API, len(ours), len(labelled.evts))
	})
}

// pollUntil polls every reader until done holds, or fails after timeout.
func pollUntil(t *testing.T, what string, timeout time.Duration, done func() bool, readers ...*liveReader) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			for _, r := range readers {
				t.Logf("reader got %d events:\n%s", len(r.evts), r.dump())
			}
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		for _, r := range readers {
			r.poll()
		}
	}
}

// checkLabelFilter: the daemon applies the label filter; only events
// carrying the label pass (the labelled containers', and the committed
// image's, which inherits the labels).
func checkLabelFilter(t *testing.T, s scenario, evts []liveEvent) {
	t.Helper()
	for _, e := range evts {
		if e.str("docker.attributes["+dockertest.Label+"]") != s.nonce {
			t.Errorf("label filter let through: %s", e.payload)
		}
	}
}

// NA is a field without a value.
const NA = "<NA>"

// want is the value of each named field ("<NA>": none). A value ending in
// "*" is a prefix.
type want map[string]string

// checker finds the scenario's events and checks their fields.
type checker struct {
	t    *testing.T
	evts []liveEvent
}

// sel selects events by type, bare action (docker.action.name) and the
// object's name as the payload says it.
func sel(typ, action, name string) func(liveEvent) bool {
	return func(e liveEvent) bool {
		return e.str("docker.type") == typ && e.str("docker.action.name") == action &&
			(name == "" || bytes.Contains(e.payload, []byte(name)))
	}
}

// all checks every event match selects against w, and that there is one.
func (c *checker) all(what string, match func(liveEvent) bool, w want) []liveEvent {
	c.t.Helper()
	var got []liveEvent
	for _, e := range c.evts {
		if match(e) {
			got = append(got, e)
			c.check(what, e, w)
		}
	}
	if len(got) == 0 {
		c.t.Fatalf("%s: no such event", what)
	}
	return got
}

// none checks that no event match selects exists.
func (c *checker) none(what string, match func(liveEvent) bool) {
	c.t.Helper()
	for _, e := range c.evts {
		if match(e) {
			c.t.Errorf("%s: unexpected event %s", what, e.payload)
		}
	}
}

func (c *checker) check(what string, e liveEvent, w want) {
	c.t.Helper()
	for f, v := range w {
		got := e.str(f)
		if p, ok := strings.CutSuffix(v, "*"); ok && strings.HasPrefix(got, p) {
			continue
		}
		if got != v {
			c.t.Errorf("%s: %s = %q, want %q\n  %s", what, f, got, v, e.payload)
		}
	}
}

// checkScenario checks the scenario's events on an engine of kind k: what
// every engine reports in Docker's terms, and what each cannot report.
func checkScenario(t *testing.T, k dockertest.Kind, s scenario, evts []liveEvent) {
	t.Helper()
	c := &checker{t: t, evts: evts}
	docker, moby, podman := k == dockertest.KindDocker, k == dockertest.KindMoby, k == dockertest.KindPodman
	isDockerEngine := docker || moby

	for _, e := range evts {
		var m struct {
			TimeNano uint64 `json:"timeNano"`
		}
		if err := json.Unmarshal(e.payload, &m); err != nil || m.TimeNano == 0 || e.ts != m.TimeNano {
			t.Errorf("event ts %d, payload timeNano %d (%v): %s", e.ts, m.TimeNano, err, e.payload)
		}
		if strings.ContainsAny(string(e.payload), "\n") || !json.Valid(e.payload) {
			t.Errorf("payload is not the daemon's compact JSON message: %q", e.payload)
		}
		// What Podman sends on every event gives no value where Docker
		// sends nothing: the empty image attribute, a containerExitCode of
		// an event that is not a death.
		switch e.str("docker.action.name") {
		case "die", "exec_die":
		default:
			c.check("any event but a death", e, want{"docker.container.exitcode": NA, "docker.attributes.exitcode": NA})
		}
		if e.str("docker.type") != "container" {
			c.check("any event but a container's", e, want{"docker.attributes.image": NA, "docker.container.name": NA, "docker.container.image": NA, "docker.from": NA})
		}
		if typ := e.str("docker.type"); typ != "container" && typ != "image" {
			c.check("a "+typ+" event (status/id only for containers and images, as Docker)", e, want{"docker.status": NA, "docker.id": NA})
		}
		// The message shape: API >= 1.52 has no status/id/from, older
		// daemons send status for container and image events, Podman's
		// compatible endpoint (API 1.41) for every event.
		var top map[string]json.RawMessage
		json.Unmarshal(e.payload, &top)
		_, hasStatus := top["status"]
		wantStatus := podman || (docker && (e.str("docker.type") == "container" || e.str("docker.type") == "image"))
		if _, hasID := top["id"]; hasStatus != wantStatus || (moby && hasID) {
			t.Errorf("status member present %v, want %v: %s", hasStatus, wantStatus, e.payload)
		}
	}

	// The container that is exec'd into and SIGKILLed.
	creates := c.all("create of c", sel("container", "create", s.c()), want{"docker.container.name": s.c(), "docker.status": "create",
		"docker.container.image": "*", "docker.from": "*", "docker.attributes[" + dockertest.Label + "]": s.nonce, "docker.action": "create"})
	if len(creates) == 0 {
		t.FailNow()
	}
	cid := creates[0].str("docker.actor.id")
	c.check("create of c", creates[0], want{"docker.id": cid, "docker.container.id": cid})
	if img := creates[0].str("docker.container.image"); !strings.Contains(img, "falco-docker-plugin-testbox:") || creates[0].str("docker.from") != img {
		t.Errorf("create of c: image %q, from %q", img, creates[0].str("docker.from"))
	}
	var starts, dies []liveEvent
	if isDockerEngine {
		for _, a := range []string{"exec_create", "exec_start"} {
			c.all(a+" of c", sel("container", a, s.c()), want{"docker.exec.cmdline": "sh -c *", "docker.exec.exe": "sh",
				"docker.exec.id": "*", "docker.action.args": "sh -c *", "docker.action": a + ": sh -c *", "docker.status": a + ": sh -c *"})
		}
		starts = c.all("exec_start of c", sel("container", "exec_start", s.c()), want{})
		c.all("kill of c", sel("container", "kill", s.c()), want{"docker.container.signal": "9", "docker.attributes.signal": "9"})
	} else {
		// Podman says exec (no command, no exec id), reported as
		// exec_start so that the exec rules fire; no exec_create.
		c.none("exec_create (Podman sends none)", sel("container", "exec_create", ""))
		// The command, exe and id: only what the live source found from
		// the exec sessions (checkContext).
		starts = c.all("exec of c", sel("container", "exec_start", s.c()), want{"docker.action": "exec_start", "docker.status": "exec_start",
			"docker.action.args": NA})
		c.all("kill of c (Podman sends no signal)", sel("container", "kill", s.c()), want{"docker.container.signal": NA, "docker.attributes.signal": NA})
	}
	if len(starts) != 2 {
		t.Errorf("%d exec starts of c, want 2", len(starts))
	}
	execDies := c.all("exec_die of c", sel("container", "exec_die", s.c()), want{"docker.action": "exec_die", "docker.status": "exec_die"})
	if len(execDies) != 2 || execDies[0].str("docker.container.exitcode") != "0" || execDies[1].str("docker.container.exitcode") != "5" ||
		execDies[1].str("docker.attributes.exitcode") != "5" {
		t.Errorf("exec deaths of c: %d, want exit codes 0 then 5", len(execDies))
	}
	if isDockerEngine {
		c.all("copy into c", sel("container", "extract-to-dir", s.c()), want{"docker.status": "extract-to-dir"})
		c.all("copy out of c", sel("container", "archive-path", s.c()), want{"docker.status": "archive-path"})
		c.all("export of c", sel("container", "export", s.c()), want{})
	} else {
		c.none("copy and export (Podman sends none)", func(e liveEvent) bool {
			return sel("container", "extract-to-dir", "")(e) || sel("container", "archive-path", "")(e) || sel("container", "export", "")(e)
		})
	}
	c.all("pause of c", sel("container", "pause", s.c()), want{"docker.status": "pause"})
	c.all("unpause of c", sel("container", "unpause", s.c()), want{})
	dies = c.all("die of c", sel("container", "die", s.c()), want{"docker.container.exitcode": "137", "docker.attributes.exitcode": "137",
		"docker.status": "die", "docker.id": cid, "docker.container.id": cid})
	c.all("destroy of c", sel("container", "destroy", s.c()), want{"docker.action": "destroy", "docker.status": "destroy", "docker.container.name": s.c()})
	_ = dies

	c.all("die of exited", sel("container", "die", s.exited()), want{"docker.container.exitcode": "3", "docker.attributes.exitcode": "3"})

	// The container on a network of its own, committed and stopped.
	ncid := c.all("create of netC", sel("container", "create", s.netC()), want{})[0].str("docker.actor.id")
	connects := c.all("connect of netC", func(e liveEvent) bool {
		return sel("network", "connect", "")(e) && e.str("docker.container.id") == ncid
	}, want{"docker.status": NA, "docker.id": NA})
	if isDockerEngine {
		nid := c.all("network create", sel("network", "create", s.network()), want{"docker.network.name": s.network(), "docker.network.driver": "bridge",
			"docker.network.id": "*", "docker.attributes.name": s.network()})[0].str("docker.actor.id")
		c.check("connect of netC", connects[len(connects)-1], want{"docker.network.id": nid, "docker.network.name": s.network(), "docker.attributes.container": ncid})
		c.all("network destroy", sel("network", "destroy", s.network()), want{"docker.network.id": nid})
		c.all("kill of netC by stop", sel("container", "kill", s.netC()), want{"docker.container.signal": "15"})
		c.all("stop of netC", sel("container", "stop", s.netC()), want{})
	} else {
		// Podman's network events are about the container: Actor.ID and
		// name are the container's, and the network is not named.
		c.none("network create (Podman sends none)", sel("network", "create", ""))
		c.none("network destroy (Podman sends none)", sel("network", "destroy", ""))
		c.check("connect of netC", connects[0], want{"docker.network.id": NA, "docker.network.name": NA, "docker.attributes.container": NA,
			"docker.network.driver": NA})
		// docker stop: no kill (so no signal); a stop event only at times.
		c.none("kill by docker stop (Podman sends none)", sel("container", "kill", s.netC()))
	}
	c.all("disconnect of netC", func(e liveEvent) bool {
		return sel("network", "disconnect", "")(e) && e.str("docker.container.id") == ncid
	}, want{})
	c.all("die of netC", sel("container", "die", s.netC()), want{"docker.container.exitcode": "0"})
	c.all("commit of netC", sel("container", "commit", s.netC()), want{"docker.status": "commit"})
	if moby {
		// Image create (on commit) is sent to clients at API >= 1.46.
		c.all("image create on commit", func(e liveEvent) bool {
			return sel("image", "create", "")(e) && strings.Contains(e.str("docker.attributes["+dockertest.Label+"]"), s.nonce)
		},
			want{"docker.status": "create", "docker.id": "sha256:*"})
	} else {
		c.none("image create (API < 1.46 or Podman)", sel("image", "create", ""))
	}

	// The volume.
	if isDockerEngine {
		c.all("volume create", sel("volume", "create", s.volume()), want{"docker.volume.name": s.volume(), "docker.volume.driver": "local", "docker.actor.id": s.volume()})
	} else {
		// Podman: empty Actor.ID, the volume in name, no driver.
		c.all("volume create", sel("volume", "create", s.volume()), want{"docker.volume.name": s.volume(), "docker.volume.driver": NA, "docker.actor.id": NA})
	}
	c.all("volume destroy", sel("volume", "destroy", s.volume()), want{"docker.volume.name": s.volume(), "docker.action": "destroy"})

	// The host network, the OOM killer, a daemon reload.
	hn := c.all("create of hostNet", sel("container", "create", s.hostNet()), want{})[0].str("docker.actor.id")
	c.all("die of oom", sel("container", "die", s.oom()), want{"docker.container.exitcode": "137"})
	if isDockerEngine {
		c.all("host network connect", func(e liveEvent) bool { return sel("network", "connect", "")(e) && e.str("docker.container.id") == hn },
			want{"docker.network.name": "host", "docker.network.driver": "host"})
		c.all("oom", sel("container", "oom", s.oom()), want{"docker.container.name": s.oom()})
	} else {
		c.none("host network connect or oom (Podman sends neither)", func(e liveEvent) bool {
			return (sel("network", "connect", "")(e) && e.str("docker.container.id") == hn) || sel("container", "oom", "")(e)
		})
	}
	if moby {
		c.all("daemon reload", sel("daemon", "reload", ""), want{"docker.status": NA, "docker.id": NA, "docker.actor.id": "*", "docker.attributes.name": "*"})
	}

	// Images: the reference gives name and tag; an id or a path does not.
	tagName, tagTag, _ := strings.Cut(s.tagged(), ":")
	idWant := "sha256:*"
	if podman {
		tagName = "docker.io/library/" + tagName // Podman qualifies short names
		idWant = "*"
	}
	tags := c.all("tag", sel("image", "tag", s.tagged()), want{"docker.image.name": tagName, "docker.image.tag": tagTag, "docker.status": "tag", "docker.id": idWant})
	imgID := tags[0].str("docker.id")
	if podman && (strings.HasPrefix(imgID, "sha256:") || len(imgID) != 64) {
		t.Errorf("Podman image id %q: want its bare 64-hex id", imgID)
	}
	if isDockerEngine {
		// Docker names the image by id in untag, save, load and import.
		c.all("untag", sel("image", "untag", imgID), want{"docker.id": imgID, "docker.image.name": NA, "docker.image.tag": NA})
		c.all("import", sel("image", "import", ""), want{"docker.image.name": NA, "docker.status": "import"})
		c.all("save", sel("image", "save", imgID), want{"docker.image.name": NA})
		c.all("load", sel("image", "load", imgID), want{"docker.image.name": NA, "docker.action": "load"})
		c.all("prune", sel("image", "prune", ""), want{"docker.id": NA, "docker.actor.id": NA, "docker.status": "prune"})
	} else {
		c.all("untag", sel("image", "untag", s.tagged()), want{"docker.image.name": tagName, "docker.image.tag": tagTag})
		c.none("import (Podman sends a tag only)", sel("image", "import", ""))
		c.all("save (the archive path is no reference)", sel("image", "save", ""), want{"docker.image.name": NA, "docker.image.tag": NA, "docker.attributes.name": "/*"})
		c.all("loadfromarchive as load", sel("image", "load", ""), want{"docker.action": "load", "docker.status": "load", "docker.image.name": NA, "docker.id": NA})
		c.all("pull of a local image", sel("image", "pull", s.local()), want{"docker.image.name": strings.TrimSuffix(s.local(), ":1"), "docker.image.tag": "1", "docker.id": NA, "docker.status": "pull"})
		c.all("pod create", sel("pod", "create", s.pod()), want{"docker.attributes.name": s.pod(), "docker.status": NA, "docker.id": NA, "docker.container.id": NA})
		c.all("pod remove", sel("pod", "remove", s.pod()), want{})
	}

	// The health check.
	hs := c.all("health status", sel("container", "health_status", s.health()), want{})
	for _, e := range hs {
		args := e.str("docker.action.args")
		if isDockerEngine && args != "healthy" {
			t.Errorf("health status %q, want healthy: %s", args, e.payload)
		}
		var m struct{ HealthStatus string }
		json.Unmarshal(e.payload, &m)
		if podman && (args == NA || args != m.HealthStatus) {
			t.Errorf("Podman health status: args %q, HealthStatus %q", args, m.HealthStatus)
		}
		c.check("health status", e, want{"docker.action": "health_status: " + args, "docker.status": "health_status: " + args})
	}
	checkContext(t, k, s, evts)
}

// checkContext checks the container context of the scenario's events: on
// every event that names one of its containers (each was inspected at its
// create, while it existed), and what each context container reports.
func checkContext(t *testing.T, k dockertest.Kind, s scenario, evts []liveEvent) {
	t.Helper()
	c := &checker{t: t, evts: evts}
	podman := k == dockertest.KindPodman
	named := 0
	for _, e := range evts {
		if e.str("docker.container.id") == NA {
			c.check("an event that names no container", e, want{"docker.container.privileged": NA, "docker.container.mounts": NA, "docker.container.cmdline": NA})
			continue
		}
		named++
		if e.str("docker.container.privileged") == NA || e.str("docker.container.cmdline") != "/testbox sleep" && !strings.HasPrefix(e.str("docker.container.cmdline"), "/testbox ") {
			t.Errorf("an event of the scenario's containers without its context: privileged=%s cmdline=%s\n  %s",
				e.str("docker.container.privileged"), e.str("docker.container.cmdline"), e.payload)
		}
	}
	if named == 0 {
		t.Fatal("no event names a container")
	}
	// The ordinary container: everything off, the image it runs.
	ordinary := want{"docker.container.privileged": "false", "docker.container.host_pid": "false", "docker.container.host_network": "false",
		"docker.container.readonly_rootfs": "false", "docker.container.user": "", "docker.container.mounts": NA, "docker.container.cap_add": NA,
		"docker.container.devices": NA, "docker.container.image.id": "sha256:*", "docker.container.cmdline": "/testbox sleep",
		"docker.container.host_ipc": "false"}
	if podman {
		ordinary["docker.container.host_ipc"] = NA
		ordinary["docker.container.image.digest"] = "sha256:*" // Podman computes one for an imported image
	} else {
		ordinary["docker.container.image.digest"] = NA // an imported image has no repository digest
		ordinary["docker.container.security_opt"] = NA
	}
	c.all("start of c", sel("container", "start", s.c()), ordinary)
	c.all("start of the host-network container", sel("container", "start", s.hostNet()), want{"docker.container.host_network": "true", "docker.container.host_pid": "false"})
	for _, r := range ctxRuns {
		c.all("start of "+r.role+" "+strings.Join(r.args, " "), sel("container", "start", s.ctxName(r.role)), r.want(k))
	}
	// The exec into the privileged container: Docker says its command;
	// Podman's exec does not, and the live source fills it only when it
	// can tell the exec session: then it must be the right one.
	for _, e := range c.all("exec into the privileged container", sel("container", "exec_start", s.ctxName("cp")), want{"docker.container.privileged": "true"}) {
		if got := e.str("docker.exec.cmdline"); got != "sh -c id" && !(podman && got == NA) {
			t.Errorf("exec into the privileged container: docker.exec.cmdline %q\n  %s", got, e.payload)
		}
	}
	if podman {
		// The two execs of c, 100 ms apart: each has its own command, or
		// none when the plugin could not tell the two sessions apart.
		for k, e := range c.all("exec of c", sel("container", "exec_start", s.c()), want{}) {
			cmd := []string{"sh -c id", "sh -c exit 5"}[min(k, 1)]
			got := e.str("docker.exec.cmdline")
			switch {
			case got == NA:
				c.check("Podman exec without its command", e, want{"docker.exec.exe": NA})
			case got != cmd:
				t.Errorf("Podman exec %d of c: docker.exec.cmdline %q, want %q (or none)\n  %s", k, got, cmd, e.payload)
			default:
				c.check("Podman exec with its command", e, want{"docker.exec.exe": "sh"})
			}
		}
	}
}

// TestEngineCorpora replays the corpus recorded from each engine by the
// scenario (testdata/engines) through the ABI, and checks it as the live
// test checks the engine: make test covers every engine's dialect even
// where the engine cannot run.
func TestEngineCorpora(t *testing.T) {
	needDocker(t)
	files, err := filepath.Glob(filepath.Join("testdata", "engines", "*.jsonl"))
	if err != nil || len(files) < 3 {
		t.Fatalf("recorded corpora: %v (%v), want one per engine of the matrix", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		kind, _, _ := strings.Cut(name, "-")
		t.Run(name, func(t *testing.T) {
			r := newLiveReader(t, "", fileURI(fixture(t, filepath.Join("engines", filepath.Base(f)))))
			for r.read() != harness.EOF {
				if r.calls > 10000 {
					t.Fatalf("no EOF after %d next_batch calls", r.calls)
				}
			}
			checkScenario(t, dockertest.Kind(kind), scenario{nonce: recordedNonce}, r.evts)
		})
	}
}

// negotiated is the API version the plugin speaks with a daemon announcing
// api: the daemon's, capped at 1.52.
func negotiated(api string) string {
	if versions.LessThan("1.52", api) {
		return "1.52"
	}
	return api
}
