package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const casesPath = "testdata/cases.yaml"

// fixtureCase is one event of testdata/cases.yaml (its header documents the keys).
type fixtureCase struct {
	Why    string              `yaml:"why"`
	Event  string              `yaml:"event"`
	Legacy string              `yaml:"legacy"`
	Source string              `yaml:"source"`
	Also   []string            `yaml:"also"`
	NA     []string            `yaml:"na"`
	Lists  map[string][]string `yaml:"lists"`
	Macros map[string]string   `yaml:"macros"`
}

type fixtureRule struct {
	Rule     string        `yaml:"rule"`
	Match    []fixtureCase `yaml:"match"`
	NearMiss []fixtureCase `yaml:"near_miss"`
}

func loadFixtures(t *testing.T) []fixtureRule {
	t.Helper()
	data, err := os.ReadFile(casesPath)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var fx []fixtureRule
	if err := dec.Decode(&fx); err != nil {
		t.Fatalf("%s: %v", casesPath, err)
	}
	return fx
}

// shape is one rendering of a fixture event.
type shape struct {
	name string // "api>=1.52", "api<1.52", "podman"
	line string
}

func (c fixtureCase) shapes() []shape {
	first := "api>=1.52"
	if c.Source == "podman" {
		first = "podman"
	}
	out := []shape{{first, c.Event}}
	if c.Legacy != "" {
		out = append(out, shape{"api<1.52", c.Legacy})
	}
	return out
}

type message struct {
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
}

func decodeObject(line string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the object")
	}
	return m, nil
}

// TestFixtureShapes: each fixture is one valid event line; Engine API >= 1.52 lines
// carry no status/id/from; container and image events come with their pre-1.52
// rendering, which must be the same message with status = Action, id = Actor.ID and,
// for container events, from = the image attribute, written first, as moby's
// events.Log filled them; other event types never had them, so they have one shape.
func TestFixtureShapes(t *testing.T) {
	for _, fr := range loadFixtures(t) {
		for kind, cases := range map[string][]fixtureCase{"match": fr.Match, "near_miss": fr.NearMiss} {
			for i, c := range cases {
				name := fmt.Sprintf("%s/%s/%d", fr.Rule, kind, i)
				if strings.TrimSpace(c.Why) == "" {
					t.Errorf("%s: no why", name)
				}
				ev, err := decodeObject(c.Event)
				if err != nil {
					t.Errorf("%s: event: %v", name, err)
					continue
				}
				var m message
				if err := json.Unmarshal([]byte(c.Event), &m); err != nil || m.Type == "" || m.Action == "" {
					t.Errorf("%s: event without Type/Action (%v)", name, err)
					continue
				}
				triplet := []string{"status", "id", "from"}
				switch c.Source {
				case "podman":
					if c.Legacy != "" {
						t.Errorf("%s: a Podman event has one shape", name)
					}
					continue
				case "":
				default:
					t.Errorf("%s: unknown source %q", name, c.Source)
					continue
				}
				for _, k := range triplet {
					if _, ok := ev[k]; ok {
						t.Errorf("%s: the Engine API >= 1.52 shape has no %q", name, k)
					}
				}
				if m.Type != "container" && m.Type != "image" {
					if c.Legacy != "" {
						t.Errorf("%s: %s events never carried status/id/from: no legacy line", name, m.Type)
					}
					continue
				}
				if c.Legacy == "" {
					t.Errorf("%s: a %s event needs its pre-1.52 (legacy) line", name, m.Type)
					continue
				}
				leg, err := decodeObject(c.Legacy)
				if err != nil {
					t.Errorf("%s: legacy: %v", name, err)
					continue
				}
				want := map[string]any{"status": m.Action, "id": m.Actor.ID}
				if img := m.Actor.Attributes["image"]; m.Type == "container" && img != "" {
					want["from"] = img
				}
				for _, k := range triplet {
					if fmt.Sprint(leg[k]) != fmt.Sprint(want[k]) || (leg[k] == nil) != (want[k] == nil) {
						t.Errorf("%s: legacy %s = %v, a pre-1.52 daemon sent %v", name, k, leg[k], want[k])
					}
				}
				rest := maps.Clone(leg)
				for _, k := range triplet {
					delete(rest, k)
				}
				if !reflect.DeepEqual(rest, ev) {
					t.Errorf("%s: legacy and event differ beyond status/id/from", name)
				}
				if !strings.HasPrefix(c.Legacy, `{"status":`) {
					t.Errorf("%s: legacy: moby writes status, id, from first", name)
				}
			}
		}
	}
}

// compiledSets caches compiled rule sets per override set.
type compiledSets struct {
	rs    *ruleset
	cache map[string][]compiledRule
}

func (cs *compiledSets) get(t *testing.T, lists map[string][]string, macros map[string]string) []compiledRule {
	t.Helper()
	key := fmt.Sprint(lists, macros) // fmt prints maps sorted
	if r, ok := cs.cache[key]; ok {
		return r
	}
	r, _, err := cs.rs.compile(lists, macros)
	if err != nil {
		t.Fatalf("overrides %v %v: %v", lists, macros, err)
	}
	cs.cache[key] = r
	return r
}

func triggered(t *testing.T, rules []compiledRule, line string) []string {
	t.Helper()
	src := newEventSource([]byte(line))
	if !src.ev.Valid() {
		t.Fatalf("the plugin does not parse %s", line)
	}
	var out []string
	for _, r := range rules {
		ok, err := r.cond.eval(src)
		if err != nil {
			t.Fatalf("rule %q: %v", r.Name, err)
		}
		if ok {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestRulesOnFixtures: every rule matches each of its matching events and none of
// its near misses, in every shape; and each event triggers exactly the rules the
// table says (the rule itself for a match, plus the listed overlaps), no more.
// A near miss that carries overrides must be a match without them (the tuning is
// what makes it a near miss), else the override proves nothing.
func TestRulesOnFixtures(t *testing.T) {
	rs := loadRules(t)
	fx := loadFixtures(t)
	cs := &compiledSets{rs: rs, cache: map[string][]compiledRule{}}

	covered := map[string]bool{}
	for _, fr := range fx {
		if _, ok := rs.rule(fr.Rule); !ok {
			t.Errorf("fixtures for unknown rule %q", fr.Rule)
			continue
		}
		if covered[fr.Rule] {
			t.Errorf("rule %q has two fixture entries", fr.Rule)
		}
		covered[fr.Rule] = true
		if len(fr.Match) == 0 || len(fr.NearMiss) == 0 {
			t.Errorf("rule %q: want at least one matching and one near-miss event", fr.Rule)
		}
		for kind, cases := range map[string][]fixtureCase{"match": fr.Match, "near_miss": fr.NearMiss} {
			for i, c := range cases {
				want := slices.Clone(c.Also)
				for _, a := range c.Also {
					if _, ok := rs.rule(a); !ok {
						t.Errorf("%s/%s/%d: also names unknown rule %q", fr.Rule, kind, i, a)
					}
					if a == fr.Rule {
						t.Errorf("%s/%s/%d: also lists the rule itself", fr.Rule, kind, i)
					}
				}
				if kind == "match" {
					want = append(want, fr.Rule)
				}
				slices.Sort(want)
				rules := cs.get(t, c.Lists, c.Macros)
				for _, sh := range c.shapes() {
					name := fmt.Sprintf("%s/%s/%d/%s", fr.Rule, kind, i, sh.name)
					t.Run(name, func(t *testing.T) {
						got := triggered(t, rules, sh.line)
						if !slices.Equal(got, want) {
							t.Errorf("%s\n  event: %s\n  triggered %q\n  want      %q", c.Why, sh.line, got, want)
						}
						if kind == "near_miss" && len(c.Lists)+len(c.Macros) > 0 {
							plain := triggered(t, cs.get(t, nil, nil), sh.line)
							if slices.Contains(plain, fr.Rule) == slices.Contains(got, fr.Rule) {
								t.Errorf("the overrides %v %v make no difference to %q", c.Lists, c.Macros, fr.Rule)
							}
						}
					})
				}
			}
		}
	}
	for _, r := range rs.rules {
		if !covered[r.Name] {
			t.Errorf("rule %q has no fixtures in %s", r.Name, casesPath)
		}
	}
}

// renderOutput fills an output's %fields from the event, <NA> where there is no value.
func renderOutput(output string, src fieldSource) (string, []string, error) {
	refs, err := outputFields(output)
	if err != nil {
		return "", nil, err
	}
	var na []string
	var b strings.Builder
	last := 0
	for i, m := range rgxOutputField.FindAllStringIndex(output, -1) {
		b.WriteString(output[last:m[0]])
		last = m[1]
		vals, err := src.values(refs[i].ref)
		if err != nil {
			return "", nil, err
		}
		if len(vals) == 0 {
			b.WriteString("<NA>")
			na = append(na, refs[i].ref.String())
			continue
		}
		for j, v := range vals {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v.String())
		}
	}
	b.WriteString(output[last:])
	return strings.Join(strings.Fields(b.String()), " "), na, nil
}

// TestOutputsOnFixtures: on each matching event, in every shape, the rule's output
// prints a value for every field, except the ones the case allows to be <NA> (and
// those must really be <NA>, so the allowance cannot go stale).
func TestOutputsOnFixtures(t *testing.T) {
	rs := loadRules(t)
	for _, fr := range loadFixtures(t) {
		r, ok := rs.rule(fr.Rule)
		if !ok {
			continue // reported by TestRulesOnFixtures
		}
		for i, c := range fr.Match {
			for _, sh := range c.shapes() {
				out, na, err := renderOutput(r.Output, newEventSource([]byte(sh.line)))
				if err != nil {
					t.Errorf("%s: %v", fr.Rule, err)
					continue
				}
				slices.Sort(na)
				allowed := slices.Clone(c.NA)
				slices.Sort(allowed)
				if !slices.Equal(na, allowed) {
					t.Errorf("%s/match/%d/%s: fields without a value %v, the case allows %v\n  %s", fr.Rule, i, sh.name, na, allowed, out)
				}
				if sh.name != "api<1.52" {
					t.Logf("%s [%s]: %s", fr.Rule, r.Priority, out)
				}
			}
		}
	}
}

const recordedPath = "testdata/recorded-docker-20.10.jsonl"

// stripDeprecated renders a recorded pre-1.52 line in the Engine API >= 1.52 shape:
// the same message without the top-level status, id and from.
func stripDeprecated(t *testing.T, line string) string {
	t.Helper()
	m, err := decodeObject(line)
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "status")
	delete(m, "id")
	delete(m, "from")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecordedDocker2010 runs the rules over a genuine recording (`docker events
// --format '{{json .}}'` on Docker 20.10, API 1.41) of: docker import, run -d with a
// 1 s health check, exec sh / sh -c ... / /bin/sh, cp out and in, commit, export,
// pause, kill -s HUP, kill, run --network host, save, load. Each rule must fire on
// exactly the listed actions, in the recorded shape and in the 1.52 shape; then
// again with the health probe listed in docker_known_healthcheck_cmdlines.
func TestRecordedDocker2010(t *testing.T) {
	data, err := os.ReadFile(recordedPath)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	probe := "exec_start: /bin/sh -c true"
	want := map[string][]string{
		"Docker Shell Exec Into Container":             {"exec_start: sh ", "exec_start: sh -c cat /etc/probe.txt", "exec_start: /bin/sh "},
		"Docker Exec Into Container":                   {probe, probe, probe, probe, probe},
		"Docker Container Attached":                    {"attach"},
		"Docker Container Killed With SIGKILL":         {"kill"},
		"Docker Container Died From Fatal Signal":      {"die"},
		"Docker Image Loaded Or Imported From Archive": {"import", "load"},
		"Docker Container Committed To Image":          {"commit"},
		"Docker Copy Out Of Container":                 {"archive-path"},
		"Docker Copy Into Container":                   {"extract-to-dir"},
		"Docker Container Exported":                    {"export"},
		"Docker Container Joined Host Network":         {"connect"},
		"Container status changed":                     {"create", "start", "die", "create", "start", "die"},
	}
	rs := loadRules(t)
	cs := &compiledSets{rs: rs, cache: map[string][]compiledRule{}}
	for _, variant := range []struct {
		name  string
		lists map[string][]string
		want  map[string][]string
	}{
		{"defaults", nil, want},
		{"probe listed", map[string][]string{"docker_known_healthcheck_cmdlines": {"/bin/sh -c true"}}, func() map[string][]string {
			w := maps.Clone(want)
			delete(w, "Docker Exec Into Container")
			return w
		}()},
	} {
		for _, shapeName := range []string{"recorded (api<1.52)", "api>=1.52"} {
			t.Run(variant.name+"/"+shapeName, func(t *testing.T) {
				rules := cs.get(t, variant.lists, nil)
				got := map[string][]string{}
				for _, l := range lines {
					if shapeName == "api>=1.52" {
						l = stripDeprecated(t, l)
					}
					var m message
					if err := json.Unmarshal([]byte(l), &m); err != nil {
						t.Fatal(err)
					}
					for _, r := range triggered(t, rules, l) {
						got[r] = append(got[r], m.Action)
					}
				}
				for _, r := range rs.rules {
					if !slices.Equal(got[r.Name], variant.want[r.Name]) {
						t.Errorf("%s: fired on %q, want %q", r.Name, got[r.Name], variant.want[r.Name])
					}
				}
			})
		}
	}
}

// TestRulesOnEngineCorpora runs the rules over the events the tests' engine
// scenario recorded from each real engine (tests/testdata/engines): which
// rule fires on which event, per engine, is what README's rules table says
// of each engine. A rule absent from an engine's table does not fire on its
// scenario (Podman: no command with exec, no signal with kill, no copy,
// export, OOM or host-network event; its pull of a local image is no pull).
func TestRulesOnEngineCorpora(t *testing.T) {
	status := func(n int) []string {
		var out []string
		for k := 0; k < n; k++ {
			out = append(out, "container create", "container start", "container die")
		}
		return out
	}
	repeat := func(n int, items ...string) []string {
		var out []string
		for k := 0; k < n; k++ {
			out = append(out, items...)
		}
		return out
	}
	// The scenario's containers: c, exited and netC (created, started,
	// dead in turn); the host-network one and the ten context containers
	// (all created and started, then removed together: SIGKILLed); oom and
	// health; on Podman its run of a local image.
	const ctxGroup = 11
	statusAll := func(after int) []string {
		s := status(3)
		s = append(s, repeat(ctxGroup, "container create", "container start")...)
		s = append(s, repeat(ctxGroup, "container die")...)
		return append(s, status(after)...)
	}
	start := []string{"container start"}
	docker := map[string][]string{
		"Docker Image Loaded Or Imported From Archive": {"image import", "image import", "image load"},
		"Container status changed":                     statusAll(2),
		"Docker Shell Exec Into Container":             {"container exec_start: sh -c id", "container exec_start: sh -c exit 5"},
		"Docker Copy Into Container":                   {"container extract-to-dir"},
		"Docker Copy Out Of Container":                 {"container archive-path"},
		"Docker Container Exported":                    {"container export"},
		"Docker Container Killed With SIGKILL":         repeat(1+ctxGroup+1, "container kill"), // c, the context group (rm -f), health (rm -f)
		"Docker Container Died From Fatal Signal":      repeat(1+ctxGroup+2, "container die"),  // and oom
		"Docker Container Attached":                    {"container attach", "container attach"},
		"Docker Container Committed To Image":          {"container commit"},
		"Docker Container Joined Host Network":         {"network connect"},
		"Docker Container OOM Killed":                  {"container oom"},
		"Docker Exec Into Container":                   {"container exec_start: /bin/sh -c exit 0"}, // the health probe
		// The container context (TestContextRulesOnEngineCorpora: on which container).
		"Docker Privileged Container Started":           start,
		"Docker Exec Into Privileged Container":         {"container exec_start: sh -c id"},
		"Docker Container Engine Socket Mounted":        start,
		"Docker Sensitive Host Path Mounted":            start,
		"Docker Container Shares Host Namespace":        repeat(3, "container start"),
		"Docker Container Dangerous Capability Added":   start,
		"Docker Container Seccomp Or AppArmor Disabled": start,
		"Docker Host Device Mapped Into Container":      start,
	}
	moby := maps.Clone(docker)
	// Image create (on commit) reaches clients at API >= 1.46; its derived
	// status is create, as older daemons filled it.
	moby["Container status changed"] = slices.Insert(statusAll(2), 8, "image create")
	moby["Docker Daemon Configuration Reloaded"] = []string{"daemon reload"}
	want := map[string]map[string][]string{
		"docker-20.10":  docker,
		"moby-api-1.56": moby,
		"podman-4.3": {
			"Container status changed":                     statusAll(3),
			"Docker Exec Into Container":                   {"container exec", "container exec"},
			"Docker Container Died From Fatal Signal":      repeat(1+ctxGroup+1, "container die"), // c, the context group, health
			"Docker Container Attached":                    {"container attach", "container attach"},
			"Docker Container Committed To Image":          {"container commit"},
			"Docker Image Loaded Or Imported From Archive": {"image loadfromarchive"},
			"Docker Privileged Container Started":          start,
			"Docker Exec Into Privileged Container":        {"container exec"},
			"Docker Container Engine Socket Mounted":       start,
			"Docker Sensitive Host Path Mounted":           start,
			// Its host IPC is unknown: host PID and network only.
			"Docker Container Shares Host Namespace":        repeat(2, "container start"),
			"Docker Container Dangerous Capability Added":   start,
			"Docker Container Seccomp Or AppArmor Disabled": start,
			"Docker Host Device Mapped Into Container":      start,
		},
	}
	rs := loadRules(t)
	rules := (&compiledSets{rs: rs, cache: map[string][]compiledRule{}}).get(t, nil, nil)
	files, err := filepath.Glob("../tests/testdata/engines/*.jsonl")
	if err != nil || len(files) != len(want) {
		t.Fatalf("corpora %v (%v), want one per engine of %v", files, err, slices.Collect(maps.Keys(want)))
	}
	for _, f := range files {
		engine := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var m message
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			for _, r := range triggered(t, rules, l) {
				got[r] = append(got[r], m.Type+" "+m.Action)
			}
		}
		w, ok := want[engine]
		if !ok {
			t.Errorf("%s: no expectations for this engine", engine)
			continue
		}
		for _, r := range rs.rules {
			if !slices.Equal(got[r.Name], w[r.Name]) {
				t.Errorf("%s: %s fired on %q, want %q", engine, r.Name, got[r.Name], w[r.Name])
			}
		}
	}
}

// TestContextRulesOnEngineCorpora: the container escape rules fire on the
// scenario's container that has the setting, on every engine (the roles of
// tests/engines_test.go: cp privileged, cs the Docker socket, cr / at /host,
// cx --pid host, ci --ipc host, cc --cap-add SYS_ADMIN, cz seccomp
// unconfined, cd a device, hn the host network), and on no other (the
// ordinary container c, co --read-only, cu --user 1000 raise none).
func TestContextRulesOnEngineCorpora(t *testing.T) {
	context := []string{
		"Docker Privileged Container Started", "Docker Exec Into Privileged Container", "Docker Container Engine Socket Mounted",
		"Docker Sensitive Host Path Mounted", "Docker Container Shares Host Namespace", "Docker Container Dangerous Capability Added",
		"Docker Container Seccomp Or AppArmor Disabled", "Docker Host Device Mapped Into Container",
	}
	docker := map[string][]string{
		"Docker Privileged Container Started":           {"cp"},
		"Docker Exec Into Privileged Container":         {"cp"},
		"Docker Container Engine Socket Mounted":        {"cs"},
		"Docker Sensitive Host Path Mounted":            {"cr"},
		"Docker Container Shares Host Namespace":        {"hn", "cx", "ci"},
		"Docker Container Dangerous Capability Added":   {"cc"},
		"Docker Container Seccomp Or AppArmor Disabled": {"cz"},
		"Docker Host Device Mapped Into Container":      {"cd"},
	}
	podman := maps.Clone(docker)
	podman["Docker Container Shares Host Namespace"] = []string{"hn", "cx"} // Podman's host IPC is unknown
	want := map[string]map[string][]string{"docker-20.10": docker, "moby-api-1.56": docker, "podman-4.3": podman}
	rs := loadRules(t)
	rules := (&compiledSets{rs: rs, cache: map[string][]compiledRule{}}).get(t, nil, nil)
	files, err := filepath.Glob("../tests/testdata/engines/*.jsonl")
	if err != nil || len(files) != len(want) {
		t.Fatalf("corpora %v (%v)", files, err)
	}
	for _, f := range files {
		engine := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var m message
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			role, _, _ := strings.Cut(strings.TrimPrefix(m.Actor.Attributes["name"], "fdp-"), "-")
			for _, r := range triggered(t, rules, l) {
				if slices.Contains(context, r) {
					got[r] = append(got[r], role)
				}
			}
		}
		for _, r := range context {
			if !slices.Equal(got[r], want[engine][r]) {
				t.Errorf("%s: %s fired on %q, want %q", engine, r, got[r], want[engine][r])
			}
		}
	}
}
