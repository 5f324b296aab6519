package rules

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
	"github.com/falco-docker/docker-plugin/tests/dockertest"
)

// TestContextRulesLive: the container escape rules on real containers of
// every engine of the matrix, read live through the plugin's source (with
// its container context): each fires on the container started with its
// setting and on no other; an ordinary container raises none of them.
func TestContextRulesLive(t *testing.T) {
	dockertest.Require(t)
	rs := loadRules(t)
	rules := (&compiledSets{rs: rs, cache: map[string][]compiledRule{}}).get(t, nil, nil)
	runs := []struct {
		role      string
		args      []string
		podmanCLI bool // --device: the docker CLI cannot give it to Podman's compatible API
	}{
		{"ord", nil, false},
		{"priv", []string{"--privileged", "--user", "1000"}, false}, // root privileged cannot start on Docker 20.10 here (caps)
		{"sock", []string{"-v", "/var/run/docker.sock:/var/run/docker.sock"}, false},
		{"root", []string{"-v", "/:/host:ro"}, false},
		{"pid", []string{"--pid", "host"}, false},
		{"cap", []string{"--cap-add", "SYS_ADMIN"}, false},
		{"sec", []string{"--security-opt", "apparmor=unconfined"}, false},
		{"dev", []string{"--device", "/dev/null:/dev/xnull"}, true},
	}
	want := map[string][]string{
		"Docker Privileged Container Started":           {"priv"},
		"Docker Exec Into Privileged Container":         {"priv"},
		"Docker Container Engine Socket Mounted":        {"sock"},
		"Docker Sensitive Host Path Mounted":            {"root"},
		"Docker Container Shares Host Namespace":        {"pid"},
		"Docker Container Dangerous Capability Added":   {"cap"},
		"Docker Container Seccomp Or AppArmor Disabled": {"sec"},
		"Docker Host Device Mapped Into Container":      {"dev"},
	}
	context := map[string]bool{}
	for r := range want {
		if _, ok := rs.rule(r); !ok {
			t.Fatalf("no rule %q", r)
		}
		context[r] = true
	}
	dockertest.ForEachEngine(t, func(t *testing.T, e *dockertest.Engine) {
		img := e.Image(t)
		nonce := dockertest.Nonce()
		e.Cleanup(t, nonce)
		cfg := config.Default()
		cfg.InspectTimeoutMs = 15000 // a loaded machine must not make an event go without its context
		cfg.Filters = map[string][]string{"label": {dockertest.Label + "=" + nonce}}
		log := &sourcetest.Log{}
		src, err := source.OpenLive(e.Endpoint(), source.Env{Config: cfg, Counters: &metrics.Counters{}, Log: log, SetLastError: func(error) {}}, os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var evts [][]byte
		poll := func() {
			b := &sourcetest.Batch{Max: 64}
			if err := src.Next(b, 20*time.Millisecond); err != nil && err != source.ErrTimeout {
				t.Fatalf("Next: %v\n%s", err, log)
			}
			evts = append(evts, b.Events...)
		}
		until := func(what string, done func() bool) {
			t.Helper()
			for deadline := time.Now().Add(2 * time.Minute); !done(); poll() {
				if time.Now().After(deadline) {
					t.Fatalf("timed out waiting for %s\n%s", what, log)
				}
			}
		}
		until("the connection", func() bool { _, p := src.Progress(); return strings.HasPrefix(p, "connected to ") })
		name := func(role string) string { return "fdp-r" + role + "-" + nonce }
		has := func(action, n string) bool {
			for _, p := range evts {
				ev := newEventSource(p)
				if ev.ev.ActionName().S == action && bytes.Contains(p, []byte(n)) {
					return true
				}
			}
			return false
		}
		var names []string
		for _, r := range runs {
			args := append([]string{"run", "-d", "--name", name(r.role), "--label", dockertest.Label + "=" + nonce}, r.args...)
			args = append(args, img)
			if r.podmanCLI && e.Kind == dockertest.KindPodman {
				e.Podman(t, args...)
			} else {
				e.Docker(t, args...)
			}
			names = append(names, name(r.role))
		}
		// Removed once the plugin has read their starts (Podman's events
		// come late: a container gone by then cannot be inspected).
		until("the starts", func() bool {
			for _, n := range names {
				if !has("start", n) {
					return false
				}
			}
			return true
		})
		e.Docker(t, "exec", name("priv"), "sh", "-c", "id")
		e.Docker(t, "exec", name("ord"), "sh", "-c", "id")
		until("the execs", func() bool { return has("exec_start", name("priv")) && has("exec_start", name("ord")) })
		e.Docker(t, append([]string{"rm", "-f"}, names...)...)
		until("the destroys", func() bool {
			for _, n := range names {
				if !has("destroy", n) {
					return false
				}
			}
			return true
		})

		got := map[string][]string{}
		for _, p := range evts {
			role := ""
			for _, r := range runs {
				if bytes.Contains(p, []byte(name(r.role))) {
					role = r.role
				}
			}
			for _, r := range triggered(t, rules, string(p)) {
				if context[r] {
					got[r] = append(got[r], role)
				}
			}
		}
		for r := range context {
			if !slices.Equal(got[r], want[r]) {
				t.Errorf("%s: %s fired on %q, want %q", e.Name, r, got[r], want[r])
			}
		}
		// The exec into the ordinary container is an ordinary exec.
		for _, p := range evts {
			if bytes.Contains(p, []byte(name("ord"))) && newEventSource(p).ev.ActionName().S == "exec_start" {
				fired := triggered(t, rules, string(p))
				if slices.Contains(fired, "Docker Exec Into Privileged Container") || !(slices.Contains(fired, "Docker Shell Exec Into Container") || slices.Contains(fired, "Docker Exec Into Container")) {
					t.Errorf("%s: exec into the ordinary container triggered %q", e.Name, fired)
				}
			}
		}
		t.Logf("%s: %d events; context rules fired: %v", e.Name, len(evts), got)
	})
}
