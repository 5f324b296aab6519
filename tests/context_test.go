package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/dockertest"
	"github.com/falco-docker/docker-plugin/tests/harness"
)

// The container context on the real engines, through the ABI, beyond the
// engine scenario (engines_test.go: one container per setting): a
// container that exists before the plugin opens, `docker run --rm` of an
// instant command, a recording that replays to the same values, slow
// inspection, and Podman's exec command.

const member = `,"falco:container":`

// stripMember is the daemon's message of a delivered payload: the payload
// without the member the plugin added (the last one, before the brace).
func stripMember(p []byte) []byte {
	i := bytes.LastIndex(p, []byte(member))
	if i < 0 {
		return p
	}
	return append(bytes.Clone(p[:i]), '}')
}

// contextFields are the fields of the container context.
var contextFields = []string{
	"docker.container.privileged", "docker.container.host_pid", "docker.container.host_network", "docker.container.host_ipc",
	"docker.container.mounts", "docker.container.mount.source[/host]", "docker.container.mount.dest[/var/run/docker.sock]",
	"docker.container.mount.sources", "docker.container.cap_add", "docker.container.cap_drop", "docker.container.security_opt",
	"docker.container.devices", "docker.container.user", "docker.container.readonly_rootfs", "docker.container.image.id",
	"docker.container.image.digest", "docker.container.cmdline",
}

// TestContextLive: on each engine, a container that existed before the
// plugin opened gets its context on its first later event (it was
// inspected at connection); `docker run --rm` of an instant command is
// delivered whole, in order, each of its events with or without the
// context (counted); the events are the daemon's, byte for byte, as a
// second instance with the context off reads them; the recording of the
// live events replays to the same value of every field, and a recording
// without the member gives no value for the context fields.
func TestContextLive(t *testing.T) {
	needDocker(t)
	dockertest.ForEachEngine(t, func(t *testing.T, e *dockertest.Engine) {
		img := e.Image(t)
		nonce := dockertest.Nonce()
		e.Cleanup(t, nonce)
		label := dockertest.Label + "=" + nonce
		pre, rm, end := "fdp-pre-"+nonce, "fdp-rm-"+nonce, "fdp-end-"+nonce
		preID := e.Docker(t, "run", "-d", "--name", pre, "--label", label, "--cap-add", "SYS_PTRACE", img)

		r := newLiveReader(t, `{"inspectTimeoutMs":15000}`, e.Endpoint())
		plain := newLiveReader(t, `{"containerContext":false}`, e.Endpoint())
		r.waitConnected()
		plain.waitConnected()
		// Inspected at connection, before any of its events.
		r.until("the existing container cached", time.Minute, func() bool { return plug.MetricsMap(r.s)["container_cache_entries"] >= 1 })

		e.Docker(t, "kill", "-s", "KILL", pre)
		e.DockerMayFail("run", "--rm", "--name", rm, "--label", label, img, "exit", "0")
		e.Docker(t, "volume", "create", "--label", label, end)
		e.Docker(t, "volume", "rm", end)
		isEnd := func(ev liveEvent) bool { return sel("volume", "destroy", end)(ev) }
		pollUntil(t, "the end volume's removal", 2*time.Minute, func() bool { return r.has(isEnd) && plain.has(isEnd) }, r, plain)
		r.drained(30 * time.Second)

		// The existing container: its first event after open has its context.
		var firstPre *liveEvent
		for i := range r.evts {
			if r.evts[i].str("docker.container.id") == preID {
				firstPre = &r.evts[i]
				break
			}
		}
		if firstPre == nil {
			t.Fatalf("no event of the container that existed before open:\n%s", r.dump())
		}
		if got := firstPre.str("docker.container.cap_add"); got != "SYS_PTRACE" {
			t.Errorf("first event of the existing container: cap_add %q, want SYS_PTRACE\n  %s", got, firstPre.payload)
		}

		// Our events, in the order each instance read them: the same
		// messages, the plugin's member aside.
		ours := func(evts []liveEvent) []liveEvent {
			var out []liveEvent
			for _, ev := range evts {
				if bytes.Contains(stripMember(ev.payload), []byte(nonce)) || ev.str("docker.container.id") == preID {
					out = append(out, ev)
				}
			}
			return out
		}
		got, want := ours(r.evts), ours(plain.evts)
		if len(got) != len(want) {
			t.Errorf("%d events of ours with the context, %d without:\nwith:\n%s\nwithout:\n%s", len(got), len(want), r.dump(), plain.dump())
		}
		for i := 0; i < min(len(got), len(want)); i++ {
			if !bytes.Equal(stripMember(got[i].payload), want[i].payload) || got[i].ts != want[i].ts {
				t.Errorf("event %d:\n %s\nwithout the context:\n %s", i, got[i].payload, want[i].payload)
			}
		}
		// docker run --rm: create, start, die and destroy all delivered.
		var rmActions []string
		for _, ev := range got {
			if ev.str("docker.type") == "container" && bytes.Contains(ev.payload, []byte(rm)) {
				rmActions = append(rmActions, ev.str("docker.action.name"))
			}
		}
		if !subsequence([]string{"create", "start", "die", "destroy"}, rmActions) {
			t.Errorf("docker run --rm: %q, want create, start, die, destroy", rmActions)
		}
		// Every event naming a container was counted with or without its
		// context, and the member is there exactly when counted so.
		m := plug.MetricsMap(r.s)
		named, with := 0, 0
		for _, ev := range r.evts {
			if ev.str("docker.container.id") != NA {
				named++
				if bytes.Contains(ev.payload, []byte(member)) {
					with++
				}
			}
		}
		if m["events_with_context"] != uint64(with) || m["events_with_context"]+m["events_without_context"] != uint64(named) {
			t.Errorf("metrics with %d without %d; %d events name a container, %d carry the member", m["events_with_context"], m["events_without_context"], named, with)
		}
		if m["events_delivered"] != uint64(len(r.evts)) || m["events_dropped"] != 0 {
			t.Errorf("delivered %d dropped %d, read %d", m["events_delivered"], m["events_dropped"], len(r.evts))
		}
		t.Logf("%s: %d events, %d name a container, %d with its context; docker run --rm: %q", e.Name, len(r.evts), named, with, rmActions)

		// The recording replays to the same values; without the member,
		// to no context value and the same everything else.
		dir := t.TempDir()
		var rec, plainRec bytes.Buffer
		for _, ev := range r.evts {
			rec.Write(ev.payload)
			rec.WriteByte('\n')
			plainRec.Write(stripMember(ev.payload))
			plainRec.WriteByte('\n')
		}
		for _, variant := range []struct {
			name   string
			data   []byte
			member bool
		}{{"recording", rec.Bytes(), true}, {"plain recording", plainRec.Bytes(), false}} {
			path := filepath.Join(dir, strings.ReplaceAll(variant.name, " ", "-")+".jsonl")
			if err := os.WriteFile(path, variant.data, 0o644); err != nil {
				t.Fatal(err)
			}
			rp := newLiveReader(t, "", fileURI(path))
			for rp.read() != harness.EOF {
			}
			if len(rp.evts) != len(r.evts) {
				t.Fatalf("%s: replayed %d events, recorded %d", variant.name, len(rp.evts), len(r.evts))
			}
			for i, ev := range rp.evts {
				for _, rq := range r.reqs {
					live, replay := r.evts[i].f[rq.Name], ev.f[rq.Name]
					isContext := false
					for _, f := range contextFields {
						isContext = isContext || f == rq.Name
					}
					switch {
					case variant.member && !reflect.DeepEqual(live, replay):
						t.Errorf("%s, event %d: %s live %v, replayed %v", variant.name, i, rq.Name, live, replay)
					case !variant.member && isContext && replay.Present:
						t.Errorf("%s, event %d: %s = %v without the member", variant.name, i, rq.Name, replay)
					case !variant.member && !isContext && !reflect.DeepEqual(live, replay):
						t.Errorf("%s, event %d: %s live %v, replayed %v", variant.name, i, rq.Name, live, replay)
					}
				}
			}
		}
	})
}

// inspectPath is the path of a container inspection, any API version.
var inspectPath = regexp.MustCompile(`^(/v[0-9.]+)?/containers/[^/]+/json$`)

// TestContextSlowInspect: with the engine's answers to container
// inspections held for a minute (a proxy), inspectTimeoutMs (1 s) bounds
// how long events wait: every event the engine streamed is delivered, in
// its order, long before the inspection would have answered, the new
// container's without its context (counted).
func TestContextSlowInspect(t *testing.T) {
	needDocker(t)
	dockertest.ForEachEngine(t, func(t *testing.T, e *dockertest.Engine) {
		img := e.Image(t)
		nonce := dockertest.Nonce()
		e.Cleanup(t, nonce)
		label := dockertest.Label + "=" + nonce
		p := dockertest.NewSlowProxy(t, e)
		const timeout, hold = time.Second, time.Minute
		r := newLiveReader(t, fmt.Sprintf(`{"inspectTimeoutMs":%d}`, timeout/time.Millisecond), p.Endpoint())
		r.waitConnected()
		p.Slow(func(path string) bool { return inspectPath.MatchString(path) }, hold)

		c, v, end := "fdp-slow-"+nonce, "fdp-sv-"+nonce, "fdp-send-"+nonce
		e.Docker(t, "run", "-d", "--name", c, "--label", label, img)
		e.Docker(t, "volume", "create", "--label", label, v)
		e.Docker(t, "rm", "-f", c)
		e.Docker(t, "volume", "rm", v)
		e.Docker(t, "volume", "create", "--label", label, end)
		e.Docker(t, "volume", "rm", end)
		r.until("the end volume's removal", 2*time.Minute, func() bool { return r.has(sel("volume", "destroy", end)) })

		// Everything the engine streamed up to the end, in its order.
		lines := p.Lines()
		if len(r.evts) > len(lines) {
			t.Fatalf("%d events delivered, the engine streamed %d", len(r.evts), len(lines))
		}
		for i, ev := range r.evts {
			if !bytes.Equal(stripMember(ev.payload), lines[i].Data) {
				t.Fatalf("event %d delivered:\n %s\nthe engine's event %d:\n %s", i, ev.payload, i, lines[i].Data)
			}
			// Held by the timeout at most (slack for a loaded machine),
			// never by the held inspection.
			if waited := ev.at.Sub(lines[i].At); waited > timeout+20*time.Second {
				t.Errorf("event %d delivered %s after the engine sent it (inspection held %s, timeout %s): %s", i, waited.Round(time.Millisecond), hold, timeout, ev.payload)
			}
		}
		for _, ev := range r.evts {
			if bytes.Contains(ev.payload, []byte(c)) && ev.str("docker.container.privileged") != NA {
				t.Errorf("an event of the held container has a context: %s", ev.payload)
			}
		}
		m := plug.MetricsMap(r.s)
		if p.Held() == 0 || m["context_timeouts"] == 0 || m["events_without_context"] == 0 || m["events_dropped"] != 0 {
			t.Errorf("held %d, metrics context_timeouts %d events_without_context %d events_dropped %d", p.Held(), m["context_timeouts"], m["events_without_context"], m["events_dropped"])
		}
	})
}

// TestContextPodmanExec: Podman's exec event names no command; the live
// source finds it from the exec session the container lists (two
// detached, long-running execs: their sessions exist when the events are
// read).
func TestContextPodmanExec(t *testing.T) {
	needDocker(t)
	e := dockertest.EngineOf(t, dockertest.KindPodman)
	img := e.Image(t)
	nonce := dockertest.Nonce()
	e.Cleanup(t, nonce)
	name := "fdp-px-" + nonce
	r := newLiveReader(t, `{"inspectTimeoutMs":15000}`, e.Endpoint())
	r.waitConnected()
	e.Docker(t, "run", "-d", "--name", name, "--label", dockertest.Label+"="+nonce, img)
	for k, cmd := range [][]string{{"/testbox", "sleep"}, {"/bin/sh", "sleep"}} {
		e.Docker(t, append([]string{"exec", "-d", name}, cmd...)...)
		var execs []liveEvent
		r.until("the exec's event", time.Minute, func() bool {
			execs = nil
			for _, ev := range r.evts {
				if sel("container", "exec_start", name)(ev) {
					execs = append(execs, ev)
				}
			}
			return len(execs) == k+1
		})
		ev := execs[k]
		want := strings.Join(cmd, " ")
		if got := ev.str("docker.exec.cmdline"); got != want || ev.str("docker.exec.exe") != cmd[0] || ev.str("docker.exec.id") == NA {
			t.Errorf("Podman exec %d: cmdline %q exe %q id %q, want %q\n  %s", k, got, ev.str("docker.exec.exe"), ev.str("docker.exec.id"), want, ev.payload)
		}
	}
	e.Docker(t, "rm", "-f", name)
}
