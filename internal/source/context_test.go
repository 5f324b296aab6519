package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

// The container context through the live source, against the fake daemon
// (the real engines: tests/context_test.go).

func inspectDoc(id string, privileged bool, execIDs ...string) string {
	ids, _ := json.Marshal(execIDs)
	return fmt.Sprintf(`{"Id":%q,"Path":"/bin/sleep","Args":["1d"],"Image":"sha256:abc","ExecIDs":%s,"HostConfig":{"Privileged":%v,"PidMode":"host","IpcMode":"private","NetworkMode":"bridge","CapAdd":["CAP_SYS_ADMIN"],"SecurityOpt":["seccomp=unconfined"],"ReadonlyRootfs":false},"Config":{"User":"0","Image":"img:1"},"Mounts":[{"Type":"bind","Source":"/var/run/docker.sock","Destination":"/var/run/docker.sock","RW":true}]}`, id, ids, privileged)
}

func contextEnv(mod func(*config.Config)) liveEnv {
	return newLiveEnv(func(c *config.Config) {
		c.ContainerContext = true
		if mod != nil {
			mod(c)
		}
	})
}

func containerMsg(action, id string, ts uint64, attrs string) string {
	return fmt.Sprintf(`{"status":%q,"id":%q,"Type":"container","Action":%q,"Actor":{"ID":%q,"Attributes":{%s}},"time":%d,"timeNano":%d}`, action, id, action, id, attrs, ts/1e9, ts)
}

// memberOf checks a delivered payload is the message sent, byte for byte,
// with at most the container member added, and returns the member's value.
func memberOf(t *testing.T, got []byte, sent string) string {
	t.Helper()
	if string(got) == sent {
		return ""
	}
	prefix := sent[:len(sent)-1] + `,"` + event.ContainerMember + `":`
	if !bytes.HasPrefix(got, []byte(prefix)) || !json.Valid(got) {
		t.Fatalf("delivered %s\nis not the message sent plus the member:\n%s", got, sent)
	}
	return string(got[len(prefix) : len(got)-1])
}

func TestLiveContext(t *testing.T) {
	d := sourcetest.New(t, "1.44")
	d.SetContainer("c1", inspectDoc("c1", true))
	env := contextEnv(nil)
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	// The connection's resync has asked for the list: "gone" is not in it,
	// and, cached after the list was asked for, is not forgotten by it.
	eventually(t, "the container list asked for", func() bool { return d.Lists() > 0 })
	sent := []string{
		containerMsg("create", "c1", 1e18, `"name":"x"`),
		`{"Type":"image","Action":"pull","Actor":{"ID":"alpine:3"},"timeNano":1000000000000000001}`,
		containerMsg("start", "c1", 1e18+2, ``),
		`{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"c1","name":"bridge"}},"timeNano":1000000000000000003}`,
		containerMsg("destroy", "c1", 1e18+4, ``),
		containerMsg("start", "gone", 1e18+5, ``),
	}
	d.Send(sent...)
	got := collect(t, l, len(sent))
	want := `{"id":"c1","privileged":true,"hostPid":true,"hostNetwork":false,"hostIpc":false,"readonlyRootfs":false,"user":"0","capAdd":["SYS_ADMIN"],"capDrop":[],"securityOpt":["seccomp=unconfined"],"devices":[],"mounts":[{"type":"bind","source":"/var/run/docker.sock","destination":"/var/run/docker.sock","rw":true}],"imageId":"sha256:abc","cmdline":"/bin/sleep 1d"}`
	for k, s := range sent {
		m := memberOf(t, got.Events[k], s)
		switch k {
		case 1, 5:
			if m != "" {
				t.Errorf("event %d got a member: %s", k, m)
			}
		default:
			if m != want {
				t.Errorf("event %d: member\n %s\nwant\n %s", k, m, want)
			}
		}
		if got.TS[k] != uint64(1e18)+uint64(k) {
			t.Errorf("event %d: ts %d", k, got.TS[k])
		}
	}
	if n := d.Inspections("c1"); n != 1 {
		t.Errorf("c1 inspected %d times, want once", n)
	}
	c := env.counters
	// c1 is dropped at its destroy; "gone" is remembered as gone.
	const wantMetrics = "context 4, no context 1, cache entries 1, inspect errors 1"
	var gotMetrics string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		gotMetrics = fmt.Sprintf("context %d, no context %d, cache entries %d, inspect errors %d", c.ContextEvents.Load(), c.NoContextEvents.Load(), c.CacheEntries.Load(), c.InspectErrors.Load())
		if gotMetrics == wantMetrics || time.Now().After(deadline) {
			break
		}
	}
	if gotMetrics != wantMetrics {
		t.Errorf("metrics: %s, want %s", gotMetrics, wantMetrics)
	}
}

// A container that exists at connection is inspected then, not at its
// first event; a slow inspection holds the events behind it at most
// inspectTimeoutMs and never reorders them; the reader keeps reading.
func TestLiveContextSlowAndExisting(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	d.SetContainer("old", inspectDoc("old", false))
	d.SetContainer("slow", inspectDoc("slow", true))
	d.DelayInspect("slow", time.Minute)
	const timeout = 400 * time.Millisecond
	env := contextEnv(func(c *config.Config) { c.InspectTimeoutMs = int(timeout / time.Millisecond) })
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	eventually(t, "the existing container inspected", func() bool { return env.counters.ContextEvents.Load() == 0 && d.Inspections("old") == 1 })
	eventually(t, "the existing container cached", func() bool { return env.counters.CacheEntries.Load() >= 1 })

	var sent []string
	sent = append(sent, containerMsg("create", "slow", 2e18, ""))
	for k := 1; k < 200; k++ {
		if k%2 == 0 {
			sent = append(sent, containerMsg("kill", "old", 2e18+uint64(k), `"signal":"9"`))
		} else {
			sent = append(sent, fmt.Sprintf(`{"Type":"volume","Action":"create","Actor":{"ID":"v%d"},"timeNano":%d}`, k, 2e18+uint64(k)))
		}
	}
	start := time.Now()
	d.Send(sent...)
	// The reader is not held: it has read everything while the slow
	// inspection still runs.
	eventually(t, "all read", func() bool { return env.counters.Received.Load() == uint64(len(sent)) })
	if took := time.Since(start); took > timeout/2 {
		t.Logf("reading took %s (loaded machine?)", took)
	}
	got := collect(t, l, len(sent))
	// The slow inspection would answer in a minute: the events are out
	// long before, held by the timeout only (the inspection started at
	// connection, so they may wait less than it). The order check below
	// shows they did wait for the slow container's event.
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("delivered in %s: held by the slow inspection, not by inspectTimeoutMs", elapsed)
	}
	for k, s := range sent {
		m := memberOf(t, got.Events[k], s)
		switch {
		case k == 0 && m != "":
			t.Errorf("the slow container's event got a member: %s", m)
		case k > 0 && k%2 == 0 && !strings.Contains(m, `"id":"old","privileged":false`):
			t.Errorf("event %d of the existing container: member %q", k, m)
		case k%2 == 1 && m != "":
			t.Errorf("volume event %d got a member", k)
		}
	}
	if n := d.Inspections("old"); n != 1 {
		t.Errorf("the existing container was inspected %d times, want once (at connection)", n)
	}
	c := env.counters
	if c.ContextTimeouts.Load() != 1 || c.NoContextEvents.Load() != 1 || c.Dropped.Load() != 0 {
		t.Errorf("timeouts %d, without context %d, dropped %d; want 1, 1, 0", c.ContextTimeouts.Load(), c.NoContextEvents.Load(), c.Dropped.Load())
	}
}

// Podman's exec (no command): the command is looked up from the exec
// session the container's inspect lists.
func TestLiveContextPodmanExec(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	d.Libpod = "4.3.1"
	d.SetContainer("p1", inspectDoc("p1", false, "e1"))
	d.SetExec("e1", `{"ID":"e1","ProcessConfig":{"entrypoint":"sh","arguments":["-c","id"]}}`)
	env := contextEnv(nil)
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	pod := `"podId":"","containerExitCode":"0"`
	sent := []string{containerMsg("exec", "p1", 3e18, pod), containerMsg("exec_died", "p1", 3e18+1, pod)}
	d.Send(sent...)
	got := collect(t, l, 2)
	if m := memberOf(t, got.Events[0], sent[0]); !strings.HasSuffix(m, `,"exec":{"id":"e1","cmdline":"sh -c id"}}`) {
		t.Errorf("Podman exec: member %s", m)
	}
	if m := memberOf(t, got.Events[1], sent[1]); m == "" || strings.Contains(m, `"exec"`) {
		t.Errorf("Podman exec_died: member %s", m)
	}
	var e event.Event
	e.Parse(got.Events[0])
	if e.ContextExecCmdline().S != "sh -c id" {
		t.Errorf("the exec command does not read back: %q", e.ContextExecCmdline().S)
	}
}

// containerContext false: the daemon's messages exactly, no inspection.
func TestLiveContextOff(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	d.SetContainer("c1", inspectDoc("c1", true))
	env := newLiveEnv(nil)
	l := openLiveT(t, d.Endpoint(), env.Env, noenv)
	d.WaitConn(t)
	m := containerMsg("start", "c1", 4e18, "")
	d.Send(m)
	if got := collect(t, l, 1); string(got.Events[0]) != m {
		t.Errorf("delivered %s", got.Events[0])
	}
	if d.Inspections("c1") != 0 || env.counters.Inspects.Load() != 0 {
		t.Error("inspected with containerContext off")
	}
}
