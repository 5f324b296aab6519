package tests

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

const (
	c1 = "e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6"
	c2 = "9b2f5a0c1d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd"
	// Of the line recorded from Podman 4.3 (testdata/engines).
	pc   = "03728723944b493b2b4b340f8161e058a8a207711e63aa2ddd4a61682ef27fd6"
	pimg = "docker.io/library/falco-docker-plugin-testbox:b8d830751741-677df337a338"
	n1   = "5864a44bccca4e0963dfe9c3087919bf8f8e5c3aa7db33dd6d9ae7138c5ee3f3"
	img  = "sha256:4048db5d36726e313ab8f7ffccf2362a34cba69e4cdd49119713483a68641fce"
	ex   = "2b1a7d6c5e4f30291817161514131211100f0e0d0c0b0a090807060504030201"
)

// replayWant is, per event of testdata/replay.jsonl, the timestamp and every
// field that has a value; every other field must have none (<NA>).
// Fields with an argument are listed as name[arg].
var replayWant = []struct {
	ts     uint64
	fields map[string]any // string or uint64
}{
	{1644314336370816183, map[string]any{ // pre-1.52 container create
		"docker.status": "create", "docker.id": c1, "docker.from": "alpine:3.20", "docker.type": "container", "docker.action": "create",
		"docker.attributes.image": "alpine:3.20", "docker.attributes.name": "confident_kirch", "docker.scope": "local", "docker.actor.id": c1,
		"docker.action.name": "create", "docker.container.id": c1, "docker.container.name": "confident_kirch", "docker.container.image": "alpine:3.20",
		"docker.attributes[com.docker.compose.project]": "shop"}},
	{1644314337000000001, map[string]any{ // 1.52 exec_create: status/id/from derived
		"docker.status": "exec_create: sh -c id", "docker.id": c1, "docker.from": "alpine:3.20", "docker.type": "container", "docker.action": "exec_create: sh -c id",
		"docker.attributes.image": "alpine:3.20", "docker.attributes.name": "confident_kirch", "docker.scope": "local", "docker.actor.id": c1,
		"docker.action.name": "exec_create", "docker.action.args": "sh -c id", "docker.exec.cmdline": "sh -c id", "docker.exec.exe": "sh", "docker.exec.id": ex,
		"docker.container.id": c1, "docker.container.name": "confident_kirch", "docker.container.image": "alpine:3.20"}},
	{1644314338123456789, map[string]any{ // pre-1.52 die
		"docker.status": "die", "docker.id": c1, "docker.from": "alpine:3.20", "docker.type": "container", "docker.action": "die",
		"docker.attributes.exitcode": "137", "docker.attributes.image": "alpine:3.20", "docker.attributes.name": "confident_kirch", "docker.scope": "local",
		"docker.actor.id": c1, "docker.action.name": "die", "docker.container.id": c1, "docker.container.name": "confident_kirch",
		"docker.container.image": "alpine:3.20", "docker.container.exitcode": uint64(137)}},
	{1644314339000000000, map[string]any{ // 1.52 kill
		"docker.status": "kill", "docker.id": c1, "docker.from": "alpine:3.20", "docker.type": "container", "docker.action": "kill",
		"docker.attributes.image": "alpine:3.20", "docker.attributes.name": "confident_kirch", "docker.attributes.signal": "9", "docker.scope": "local",
		"docker.actor.id": c1, "docker.action.name": "kill", "docker.container.id": c1, "docker.container.name": "confident_kirch",
		"docker.container.image": "alpine:3.20", "docker.container.signal": "9"}},
	{1644314340000000004, map[string]any{ // pre-1.52 image pull (image events never had from)
		"docker.status": "pull", "docker.id": "alpine:latest", "docker.type": "image", "docker.action": "pull", "docker.attributes.name": "alpine",
		"docker.scope": "local", "docker.actor.id": "alpine:latest", "docker.action.name": "pull", "docker.image.name": "alpine", "docker.image.tag": "latest"}},
	{1644314341000000005, map[string]any{ // 1.52 image tag
		"docker.status": "tag", "docker.id": img, "docker.type": "image", "docker.action": "tag", "docker.attributes.name": "registry.example.com:5000/team/app:1.4.2",
		"docker.scope": "local", "docker.actor.id": img, "docker.action.name": "tag", "docker.image.name": "registry.example.com:5000/team/app", "docker.image.tag": "1.4.2"}},
	{1644314342000000006, map[string]any{ // network connect: no status/id/from for non-container/image events
		"docker.type": "network", "docker.action": "connect", "docker.attributes.container": c1, "docker.attributes.name": "bridge", "docker.attributes.type": "bridge",
		"docker.scope": "local", "docker.actor.id": n1, "docker.action.name": "connect", "docker.container.id": c1, "docker.network.id": n1,
		"docker.network.name": "bridge", "docker.network.driver": "bridge"}},
	{1644314343000000007, map[string]any{ // volume mount
		"docker.type": "volume", "docker.action": "mount", "docker.attributes.container": c2, "docker.scope": "local", "docker.actor.id": "pgdata",
		"docker.action.name": "mount", "docker.container.id": c2, "docker.volume.name": "pgdata", "docker.volume.driver": "local",
		"docker.attributes[destination]": "/var/lib/postgresql/data"}},
	{1644314344000000008, map[string]any{ // daemon reload
		"docker.type": "daemon", "docker.action": "reload", "docker.attributes.name": "host1", "docker.scope": "local", "docker.actor.id": "WZ3K:2FQG:ABCD",
		"docker.action.name": "reload"}},
	{1644314345000000009, map[string]any{ // plugin install
		"docker.type": "plugin", "docker.action": "install", "docker.attributes.name": "vieux/sshfs:latest", "docker.scope": "local", "docker.actor.id": "sha256:aa11",
		"docker.action.name": "install"}},
	{1644314346000000010, map[string]any{ // node update
		"docker.type": "node", "docker.action": "update", "docker.attributes.name": "node-1", "docker.node.statenew": "ready", "docker.node.stateold": "down",
		"docker.scope": "swarm", "docker.actor.id": "q1w2e3r4t5y6", "docker.action.name": "update"}},
	{1644314347000000011, map[string]any{ // service create
		"docker.type": "service", "docker.action": "create", "docker.attributes.name": "web", "docker.scope": "swarm", "docker.actor.id": "svc123abc",
		"docker.action.name": "create"}},
	{1644314348000000012, map[string]any{ // swarm task container start, pre-1.52
		"docker.status": "start", "docker.id": c2, "docker.from": "nginx:1.27", "docker.type": "container", "docker.action": "start",
		"docker.stack.namespace": "mystack", "docker.node.id": "q1w2e3r4t5y6", "docker.swarm.task": "", "docker.swarm.taskid": "x9y8z7",
		"docker.swarm.taskname": "mystack_web.1.x9y8z7", "docker.swarm.servicename": "mystack_web", "docker.attributes.image": "nginx:1.27",
		"docker.attributes.name": "mystack_web.1.x9y8z7", "docker.scope": "local", "docker.actor.id": c2, "docker.action.name": "start",
		"docker.container.id": c2, "docker.container.name": "mystack_web.1.x9y8z7", "docker.container.image": "nginx:1.27"}},
	{1796064154332235335, map[string]any{ // Podman 4.3, recorded: containerExitCode beside exitCode, podId and other attributes empty
		"docker.engine": "podman", "docker.status": "die", "docker.id": pc, "docker.from": pimg, "docker.type": "container", "docker.action": "die",
		"docker.attributes.exitcode": "137", "docker.attributes.image": pimg, "docker.attributes.name": "fdp-c-000recorded0", "docker.actor.id": pc,
		"docker.scope": "local", "docker.action.name": "die", "docker.container.id": pc, "docker.container.name": "fdp-c-000recorded0",
		"docker.container.image": pimg, "docker.container.exitcode": uint64(137)}},
	{1644314400000000000, map[string]any{ // time (seconds) only
		"docker.status": "destroy", "docker.id": c1, "docker.from": "alpine:3.20", "docker.type": "container", "docker.action": "destroy",
		"docker.attributes.image": "alpine:3.20", "docker.attributes.name": "confident_kirch", "docker.scope": "local", "docker.actor.id": c1,
		"docker.action.name": "destroy", "docker.container.id": c1, "docker.container.name": "confident_kirch", "docker.container.image": "alpine:3.20"}},
}

// replayAll opens params and calls next_batch until EOF, copying every
// event into a store as Falco does (event numbers from 0: 0 is a real event).
func replayAll(t *testing.T, s harness.State, params string) ([]harness.Event, *harness.EventStore, []uint32) {
	t.Helper()
	i := openOK(t, s, params)
	store := harness.NewEventStore(1024, "docker")
	t.Cleanup(store.Free)
	var evts []harness.Event
	pct, _ := plug.Progress(s, i)
	progress := []uint32{pct}
	for calls := 0; ; calls++ {
		if calls > 10000 {
			t.Fatal("replay never reached EOF")
		}
		raw, rc := plug.NextBatchRaw(s, i)
		for _, r := range raw {
			evts = append(evts, r.Copy())
			store.AddRaw(r, plug.ID(), uint64(store.Len()))
		}
		pct, _ := plug.Progress(s, i)
		progress = append(progress, pct)
		if rc == harness.EOF {
			break
		}
		if rc != harness.Success && rc != harness.Timeout {
			t.Fatalf("next_batch rc=%d: %s", rc, plug.LastError(s))
		}
	}
	// EOF is sticky, with no events.
	for k := 0; k < 3; k++ {
		raw, rc := plug.NextBatchRaw(s, i)
		if rc != harness.EOF || len(raw) != 0 {
			t.Fatalf("after EOF: rc=%d with %d events, want EOF with 0", rc, len(raw))
		}
	}
	return evts, store, progress
}

func TestReplayFixture(t *testing.T) {
	needDocker(t)
	s := initOK(t, `{"batchSize":4}`)
	path := fixture(t, "replay.jsonl")
	evts, store, progress := replayAll(t, s, fileURI(path))

	// Exact count and order, payloads as written, timestamps.
	var lines [][]byte
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(content), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if json.Valid([]byte(l)) && strings.HasPrefix(l, "{") {
			lines = append(lines, []byte(l))
		}
	}
	if len(evts) != len(replayWant) || len(lines) != len(replayWant) {
		t.Fatalf("got %d events (%d valid lines), want %d", len(evts), len(lines), len(replayWant))
	}
	for k, e := range evts {
		if string(e.Data) != string(lines[k]) {
			t.Errorf("event %d payload:\n got %s\nwant %s", k, e.Data, lines[k])
		}
		if e.TS != replayWant[k].ts {
			t.Errorf("event %d ts = %d, want %d", k, e.TS, replayWant[k].ts)
		}
		if e.Type != 322 || e.NParams != 2 || e.TID != ^uint64(0) || int(e.Len) != harness.PayloadOffset+len(e.Data) {
			t.Errorf("event %d header: type %d nparams %d tid %d len %d", k, e.Type, e.NParams, e.TID, e.Len)
		}
	}

	// Progress 0 -> 1, monotonic.
	if progress[0] != 0 || progress[len(progress)-1] != 10000 {
		t.Errorf("progress should go from 0 to 10000, got %v", progress)
	}
	for k := 1; k < len(progress); k++ {
		if progress[k] < progress[k-1] {
			t.Errorf("progress went backwards: %v", progress)
		}
	}
	if len(progress) < 4 {
		t.Errorf("with batchSize 4, progress should show intermediate steps: %v", progress)
	}

	// Every field of every event, through the ABI one field per call.
	fields, err := plug.Fields()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range replayWant {
		seen := map[string]bool{}
		if _, listed := want.fields["docker.engine"]; !listed {
			// Every event is in a dialect: Docker's unless listed.
			want.fields = maps.Clone(want.fields)
			want.fields["docker.engine"] = "docker"
		}
		for id, f := range fields {
			if f.Arg.IsRequired {
				continue
			}
			got := extractOne(t, s, store, k, uint32(id), f, "", false)
			checkValue(t, k, f.Name, got, want.fields, seen)
		}
		for name, v := range want.fields {
			if fname, arg, ok := strings.Cut(name, "["); ok {
				arg = strings.TrimSuffix(arg, "]")
				id, f := fieldByName(t, fields, fname)
				got := extractOne(t, s, store, k, id, f, arg, true)
				checkValue(t, k, name, got, want.fields, seen)
			}
			if !seen[name] {
				t.Errorf("event %d: expected field %s = %v was not checked (unknown field?)", k, name, v)
			}
		}
		// docker.time is the event time.
		id, f := fieldByName(t, fields, "docker.time")
		if got := extractOne(t, s, store, k, id, f, "", false); !got.Present || got.U64s[0] != want.ts {
			t.Errorf("event %d docker.time = %v, want %d", k, got, want.ts)
		}
	}

	// event_to_string: the docker events CLI line.
	for k := range replayWant {
		want := cliLine(t, lines[k], replayWant[k].ts)
		if got := plug.EventToString(s, store, k); got != want {
			t.Errorf("event %d to string:\n got %q\nwant %q", k, got, want)
		}
	}

	// Metrics match what we counted: 2 malformed lines, 1 blank ignored.
	m := plug.MetricsMap(s)
	if m["events_delivered"] != uint64(len(replayWant)) || m["events_malformed"] != 2 || m["events_received"] != uint64(len(replayWant))+2 {
		t.Errorf("metrics delivered=%d malformed=%d received=%d, want %d, 2, %d", m["events_delivered"], m["events_malformed"], m["events_received"], len(replayWant), len(replayWant)+2)
	}
}

func fieldByName(t *testing.T, fields []harness.Field, name string) (uint32, harness.Field) {
	t.Helper()
	for id, f := range fields {
		if f.Name == name {
			return uint32(id), f
		}
	}
	t.Fatalf("no field %s", name)
	return 0, harness.Field{}
}

func extractOne(t *testing.T, s harness.State, store *harness.EventStore, k int, id uint32, f harness.Field, arg string, hasArg bool) harness.Value {
	t.Helper()
	res := plug.Extract(s, store, k, []harness.Request{{ID: id, Name: f.Name, Type: f.TypeCode(), Arg: arg, HasArg: hasArg, IsList: f.IsList, Garbage: true}}, false)
	if res.RC != harness.Success {
		t.Fatalf("event %d: extract %s[%s] rc=%d: %s", k, f.Name, arg, res.RC, plug.LastError(s))
	}
	return res.Values[0]
}

func checkValue(t *testing.T, k int, name string, got harness.Value, want map[string]any, seen map[string]bool) {
	t.Helper()
	if name == "docker.time" {
		seen[name] = true
		return
	}
	w, ok := want[name]
	seen[name] = true
	switch {
	case !ok && got.Present:
		t.Errorf("event %d: %s = %v, want <NA>", k, name, got)
	case ok && !got.Present:
		t.Errorf("event %d: %s = <NA>, want %v", k, name, w)
	case ok:
		switch wv := w.(type) {
		case string:
			if len(got.Strs) != 1 || got.Strs[0] != wv {
				t.Errorf("event %d: %s = %q, want %q", k, name, got.Strs, wv)
			}
		case uint64:
			if len(got.U64s) != 1 || got.U64s[0] != wv {
				t.Errorf("event %d: %s = %v, want %d", k, name, got.U64s, wv)
			}
		}
	}
}

// cliLine renders a message the way `docker events` does, independently of
// the plugin's implementation.
func cliLine(t *testing.T, line []byte, ts uint64) string {
	t.Helper()
	var m struct {
		Type, Action string
		Actor        struct {
			ID         string
			Attributes map[string]string
		}
	}
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	out := time.Unix(0, int64(ts)).In(time.UTC).Format("2006-01-02T15:04:05.000000000Z07:00")
	out += fmt.Sprintf(" %s %s %s", m.Type, m.Action, m.Actor.ID)
	if len(m.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(m.Actor.Attributes))
		for k := range m.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + m.Actor.Attributes[k]
		}
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	return out
}
