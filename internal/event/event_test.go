package event

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

const (
	cid  = "e327f1fa52a90d79421e416aed60e6de6872231f31101a1cc63401e90cef4bd6"
	xid  = "2b1a7d6c5e4f30291817161514131211100f0e0d0c0b0a090807060504030201"
	nid  = "5864a44bccca4e0963dfe9c3087919bf8f8e5c3aa7db33dd6d9ae7138c5ee3f3"
	imid = "sha256:4048db5d36726e313ab8f7ffccf2362a34cba69e4cdd49119713483a68641fce"
)

// Realistic messages, as daemons send them. pre152 carry the deprecated
// status/id/from (Engine API < 1.52); the others are the 1.52 shape.
var (
	pre152Create = `{"status":"create","id":"` + cid + `","from":"alpine:3.20","Type":"container","Action":"create","Actor":{"ID":"` + cid + `","Attributes":{"image":"alpine:3.20","name":"confident_kirch","com.docker.compose.project":"shop"}},"scope":"local","time":1644314336,"timeNano":1644314336370816183}`
	pre152Die    = `{"status":"die","id":"` + cid + `","from":"alpine:3.20","Type":"container","Action":"die","Actor":{"ID":"` + cid + `","Attributes":{"execDuration":"3","exitCode":"137","image":"alpine:3.20","name":"confident_kirch"}},"scope":"local","time":1644314338,"timeNano":1644314338123456789}`
	pre152Exec   = `{"status":"exec_create: sh -c id","id":"` + cid + `","from":"alpine:3.20","Type":"container","Action":"exec_create: sh -c id","Actor":{"ID":"` + cid + `","Attributes":{"execID":"` + xid + `","image":"alpine:3.20","name":"confident_kirch"}},"scope":"local","time":1644314337,"timeNano":1644314337000000001}`
	pre152Pull   = `{"status":"pull","id":"alpine:latest","Type":"image","Action":"pull","Actor":{"ID":"alpine:latest","Attributes":{"name":"alpine"}},"scope":"local","time":1644314340,"timeNano":1644314340000000004}`
	pre152Tag    = `{"status":"tag","id":"` + imid + `","Type":"image","Action":"tag","Actor":{"ID":"` + imid + `","Attributes":{"name":"registry.example.com:5000/team/app:1.4.2"}},"scope":"local","time":1644314341,"timeNano":1644314341000000005}`
	pre152Health = `{"status":"health_status: unhealthy","id":"` + cid + `","from":"nginx:1.27","Type":"container","Action":"health_status: unhealthy","Actor":{"ID":"` + cid + `","Attributes":{"image":"nginx:1.27","name":"web"}},"scope":"local","time":1700000000,"timeNano":1700000000000000000}`
	pre152Kill   = `{"status":"kill","id":"` + cid + `","from":"alpine:3.20","Type":"container","Action":"kill","Actor":{"ID":"` + cid + `","Attributes":{"image":"alpine:3.20","name":"confident_kirch","signal":"9"}},"scope":"local","time":1644314339,"timeNano":1644314339000000000}`
	pre152NoImg  = `{"status":"destroy","id":"` + cid + `","Type":"container","Action":"destroy","Actor":{"ID":"` + cid + `","Attributes":{"name":"x"}},"scope":"local","time":1644314339,"timeNano":1644314339000000000}`

	v152Die       = `{"Type":"container","Action":"die","Actor":{"ID":"` + cid + `","Attributes":{"execDuration":"3","exitCode":"137","image":"alpine:3.20","name":"confident_kirch"}},"scope":"local","time":1644314338,"timeNano":1644314338123456789}`
	v152Exec      = `{"Type":"container","Action":"exec_create: sh -c id","Actor":{"ID":"` + cid + `","Attributes":{"execID":"` + xid + `","image":"alpine:3.20","name":"confident_kirch"}},"scope":"local","time":1644314337,"timeNano":1644314337000000001}`
	v152ExecStart = `{"Type":"container","Action":"exec_start: bash","Actor":{"ID":"` + cid + `","Attributes":{"execID":"` + xid + `","image":"alpine:3.20","name":"confident_kirch"}},"scope":"local","time":1644314337,"timeNano":1644314337000000002}`
	v152ExecDie   = `{"Type":"container","Action":"exec_die","Actor":{"ID":"` + cid + `","Attributes":{"execID":"` + xid + `","exitCode":"0","image":"alpine:3.20","name":"confident_kirch"}},"scope":"local","time":1644314337,"timeNano":1644314337000000003}`
	v152Tag       = `{"Type":"image","Action":"tag","Actor":{"ID":"` + imid + `","Attributes":{"name":"registry.example.com:5000/team/app:1.4.2"}},"scope":"local","time":1644314341,"timeNano":1644314341000000005}`
	v152Network   = `{"Type":"network","Action":"connect","Actor":{"ID":"` + nid + `","Attributes":{"container":"` + cid + `","name":"bridge","type":"bridge"}},"scope":"local","time":1644314342,"timeNano":1644314342000000006}`
	v152Volume    = `{"Type":"volume","Action":"mount","Actor":{"ID":"pgdata","Attributes":{"container":"` + cid + `","destination":"/var/lib/postgresql/data","driver":"local","propagation":"","read/write":"true"}},"scope":"local","time":1644314343,"timeNano":1644314343000000007}`
	v152Daemon    = `{"Type":"daemon","Action":"reload","Actor":{"ID":"WZ3K:2FQG:ABCD","Attributes":{"debug":"true","labels":"[]","name":"host1"}},"scope":"local","time":1644314344,"timeNano":1644314344000000008}`
	v152Node      = `{"Type":"node","Action":"update","Actor":{"ID":"q1w2e3r4t5y6","Attributes":{"name":"node-1","state.new":"ready","state.old":"down"}},"scope":"swarm","time":1644314345,"timeNano":1644314345000000009}`
	v152Swarm     = `{"Type":"container","Action":"start","Actor":{"ID":"` + cid + `","Attributes":{"com.docker.stack.namespace":"mystack","com.docker.swarm.node.id":"q1w2e3r4t5y6","com.docker.swarm.service.id":"s1","com.docker.swarm.service.name":"mystack_web","com.docker.swarm.task":"","com.docker.swarm.task.id":"x9y8z7","com.docker.swarm.task.name":"mystack_web.1.x9y8z7","image":"nginx:1.27@sha256:aa","name":"mystack_web.1.x9y8z7"}},"scope":"local","time":1700000001,"timeNano":1700000001000000000}`
)

// realistic lists every realistic message (for reference comparisons).
var realistic = []string{
	pre152Create, pre152Die, pre152Exec, pre152Pull, pre152Tag, pre152Health, pre152Kill, pre152NoImg,
	v152Die, v152Exec, v152ExecStart, v152ExecDie, v152Tag, v152Network, v152Volume, v152Daemon, v152Node, v152Swarm,
}

func s(v string) Str { return Str{S: v, OK: true} }

var na = Str{}

// view is everything an Event exposes.
type view struct {
	Valid                                           bool
	Type, RawAction, Action, ActionName, ActionArgs Str
	Status, ID, From, Scope, ActorID, ExitCode      Str
	Attrs                                           map[string]string
	TS                                              uint64
	HasTS                                           bool
}

func viewOf(e *Event) view {
	v := view{
		Valid: e.Valid(), Type: e.Type(), RawAction: e.RawAction(), Action: e.Action(), ActionName: e.ActionName(), ActionArgs: e.ActionArgs(),
		Status: e.Status(), ID: e.ID(), From: e.From(), Scope: e.Scope(), ActorID: e.ActorID(), ExitCode: e.ExitCode(),
	}
	if len(e.Attrs()) > 0 {
		v.Attrs = map[string]string{}
		for _, a := range e.Attrs() {
			v.Attrs[a.Key] = a.Value
		}
	}
	v.TS, v.HasTS = e.TimeNano()
	return v
}

func diffViews(got, want view) []string {
	var out []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			out = append(out, fmt.Sprintf("%s = %+v, want %+v", gv.Type().Field(i).Name, g, w))
		}
	}
	return out
}

func TestParseRealistic(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want view
	}{
		{"pre-1.52 container die", pre152Die, view{Valid: true, Type: s("container"), RawAction: s("die"), Action: s("die"), ActionName: s("die"),
			Status: s("die"), ID: s(cid), From: s("alpine:3.20"), Scope: s("local"), ActorID: s(cid), ExitCode: s("137"),
			Attrs: map[string]string{"execDuration": "3", "exitCode": "137", "image": "alpine:3.20", "name": "confident_kirch"}, TS: 1644314338123456789, HasTS: true}},
		{"1.52 container die: status/id/from derived", v152Die, view{Valid: true, Type: s("container"), RawAction: s("die"), Action: s("die"), ActionName: s("die"),
			Status: s("die"), ID: s(cid), From: s("alpine:3.20"), Scope: s("local"), ActorID: s(cid), ExitCode: s("137"),
			Attrs: map[string]string{"execDuration": "3", "exitCode": "137", "image": "alpine:3.20", "name": "confident_kirch"}, TS: 1644314338123456789, HasTS: true}},
		{"1.52 exec_create", v152Exec, view{Valid: true, Type: s("container"), RawAction: s("exec_create: sh -c id"), Action: s("exec_create: sh -c id"),
			ActionName: s("exec_create"), ActionArgs: s("sh -c id"), Status: s("exec_create: sh -c id"), ID: s(cid), From: s("alpine:3.20"), Scope: s("local"),
			ActorID: s(cid), Attrs: map[string]string{"execID": xid, "image": "alpine:3.20", "name": "confident_kirch"}, TS: 1644314337000000001, HasTS: true}},
		{"1.52 exec_start", v152ExecStart, view{Valid: true, Type: s("container"), RawAction: s("exec_start: bash"), Action: s("exec_start: bash"),
			ActionName: s("exec_start"), ActionArgs: s("bash"), Status: s("exec_start: bash"), ID: s(cid), From: s("alpine:3.20"), Scope: s("local"),
			ActorID: s(cid), Attrs: map[string]string{"execID": xid, "image": "alpine:3.20", "name": "confident_kirch"}, TS: 1644314337000000002, HasTS: true}},
		{"pre-1.52 health_status", pre152Health, view{Valid: true, Type: s("container"), RawAction: s("health_status: unhealthy"), Action: s("health_status: unhealthy"),
			ActionName: s("health_status"), ActionArgs: s("unhealthy"), Status: s("health_status: unhealthy"), ID: s(cid), From: s("nginx:1.27"), Scope: s("local"),
			ActorID: s(cid), Attrs: map[string]string{"image": "nginx:1.27", "name": "web"}, TS: 1700000000000000000, HasTS: true}},
		{"pre-1.52 image pull", pre152Pull, view{Valid: true, Type: s("image"), RawAction: s("pull"), Action: s("pull"), ActionName: s("pull"),
			Status: s("pull"), ID: s("alpine:latest"), Scope: s("local"), ActorID: s("alpine:latest"),
			Attrs: map[string]string{"name": "alpine"}, TS: 1644314340000000004, HasTS: true}},
		{"1.52 image tag: no from for images", v152Tag, view{Valid: true, Type: s("image"), RawAction: s("tag"), Action: s("tag"), ActionName: s("tag"),
			Status: s("tag"), ID: s(imid), Scope: s("local"), ActorID: s(imid),
			Attrs: map[string]string{"name": "registry.example.com:5000/team/app:1.4.2"}, TS: 1644314341000000005, HasTS: true}},
		{"network: no triplet", v152Network, view{Valid: true, Type: s("network"), RawAction: s("connect"), Action: s("connect"), ActionName: s("connect"),
			Scope: s("local"), ActorID: s(nid), Attrs: map[string]string{"container": cid, "name": "bridge", "type": "bridge"}, TS: 1644314342000000006, HasTS: true}},
		{"volume: empty attribute kept", v152Volume, view{Valid: true, Type: s("volume"), RawAction: s("mount"), Action: s("mount"), ActionName: s("mount"),
			Scope: s("local"), ActorID: s("pgdata"), Attrs: map[string]string{"container": cid, "destination": "/var/lib/postgresql/data", "driver": "local", "propagation": "", "read/write": "true"},
			TS: 1644314343000000007, HasTS: true}},
		{"node: swarm scope", v152Node, view{Valid: true, Type: s("node"), RawAction: s("update"), Action: s("update"), ActionName: s("update"),
			Scope: s("swarm"), ActorID: s("q1w2e3r4t5y6"), Attrs: map[string]string{"name": "node-1", "state.new": "ready", "state.old": "down"}, TS: 1644314345000000009, HasTS: true}},
		{"pre-1.52 container without image attribute", pre152NoImg, view{Valid: true, Type: s("container"), RawAction: s("destroy"), Action: s("destroy"), ActionName: s("destroy"),
			Status: s("destroy"), ID: s(cid), Scope: s("local"), ActorID: s(cid), Attrs: map[string]string{"name": "x"}, TS: 1644314339000000000, HasTS: true}},
		{"exitCode wins over containerExitCode", `{"Type":"container","Action":"die","Actor":{"ID":"c","Attributes":{"containerExitCode":"1","exitCode":"2"}}}`,
			view{Valid: true, Type: s("container"), RawAction: s("die"), Action: s("die"), ActionName: s("die"), Status: s("die"), ID: s("c"), ActorID: s("c"),
				ExitCode: s("2"), Attrs: map[string]string{"containerExitCode": "1", "exitCode": "2"}}},
		{"keys are case-insensitive, attribute keys are not", `{"TYPE":"container","action":"start","ACTOR":{"id":"c","attributes":{"Name":"n"}},"Scope":"local","TimeNano":5}`,
			view{Valid: true, Type: s("container"), RawAction: s("start"), Action: s("start"), ActionName: s("start"), Status: s("start"), ID: s("c"), ActorID: s("c"),
				Scope: s("local"), Attrs: map[string]string{"Name": "n"}, TS: 5, HasTS: true}},
		{"escaped keys and values", `{"T\u0079pe":"container","Action":"start","Actor":{"ID":"c","Attributes":{"com\u002edocker.x":"a\"b\\c\u00e9\n","image":"x\/y"}}}`,
			view{Valid: true, Type: s("container"), RawAction: s("start"), Action: s("start"), ActionName: s("start"), Status: s("start"), ID: s("c"), From: s("x/y"),
				ActorID: s("c"), Attrs: map[string]string{"com.docker.x": "a\"b\\cé\n", "image": "x/y"}}},
		{"explicit status/id/from of a container are kept as sent", `{"status":"s","id":"i","from":"f","Type":"container","Action":"a","Actor":{"ID":"x"}}`,
			view{Valid: true, Type: s("container"), RawAction: s("a"), Action: s("a"), ActionName: s("a"), Status: s("s"), ID: s("i"), From: s("f"), ActorID: s("x")}},
		{"status/id/from of other types give no value, even sent", `{"status":"s","id":"i","from":"f","Type":"network","Action":"a","Actor":{"ID":"x"}}`,
			view{Valid: true, Type: s("network"), RawAction: s("a"), Action: s("a"), ActionName: s("a"), ActorID: s("x")}},
		{"type unknown to the plugin; an empty Actor.ID is none", `{"Type":"builder","Action":"prune","Actor":{"ID":"","Attributes":{"reclaimed":"1024"}},"scope":"local","time":1700000000}`,
			view{Valid: true, Type: s("builder"), RawAction: s("prune"), Action: s("prune"), ActionName: s("prune"), Scope: s("local"),
				Attrs: map[string]string{"reclaimed": "1024"}, TS: 1700000000 * 1e9, HasTS: true}},
	}
	var e Event
	for _, tc := range cases {
		e.Parse([]byte(tc.in))
		for _, d := range diffViews(viewOf(&e), tc.want) {
			t.Errorf("%s: %s", tc.name, d)
		}
		// A fresh Event gives the same view as a reused one.
		var fresh Event
		fresh.Parse([]byte(tc.in))
		if !reflect.DeepEqual(viewOf(&fresh), viewOf(&e)) {
			t.Errorf("%s: a reused Event and a fresh one disagree", tc.name)
		}
	}
}

// stripTriplet turns a pre-1.52 message into its 1.52 shape.
func stripTriplet(t *testing.T, msg string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
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

// On Engine API 1.52 the derived status/id/from equal what older daemons
// sent for the same event.
func TestDeprecatedTripletDerivation(t *testing.T) {
	for _, msg := range []string{pre152Create, pre152Die, pre152Exec, pre152Pull, pre152Tag, pre152Health, pre152Kill, pre152NoImg, podmanDie, podmanExecDied, podmanExec, podmanRemove, podmanHealth, podmanTag, docker2010Prune, docker2010Load} {
		var old, cur Event
		old.Parse([]byte(msg))
		stripped := stripTriplet(t, msg)
		cur.Parse([]byte(stripped))
		if strings.Contains(stripped, `"status"`) {
			t.Fatalf("status not stripped: %s", stripped)
		}
		for _, f := range []struct {
			name     string
			old, cur Str
		}{{"status", old.Status(), cur.Status()}, {"id", old.ID(), cur.ID()}, {"from", old.From(), cur.From()}} {
			if f.old != f.cur {
				t.Errorf("%s: %s as sent %+v, derived %+v (%s)", old.Type().S+" "+old.RawAction().S, f.name, f.old, f.cur, stripped)
			}
		}
	}
	// Other types never carried the triplet: nothing is derived.
	for _, msg := range []string{v152Network, v152Volume, v152Daemon, v152Node, `{"Type":"plugin","Action":"install","Actor":{"ID":"sha256:aa11","Attributes":{"image":"x","name":"vieux/sshfs:latest"}}}`} {
		var e Event
		e.Parse([]byte(msg))
		if e.Status().OK || e.ID().OK || e.From().OK {
			t.Errorf("%s: status %+v id %+v from %+v; want no value", e.Type().S, e.Status(), e.ID(), e.From())
		}
	}
}

func TestActionSplit(t *testing.T) {
	cases := []struct {
		action     string
		name, args Str
		normalised Str
	}{
		{"exec_create: sh -c id", s("exec_create"), s("sh -c id"), s("exec_create: sh -c id")},
		{"exec_start: bash", s("exec_start"), s("bash"), s("exec_start: bash")},
		{"exec_start: bash ", s("exec_start"), s("bash"), s("exec_start: bash ")}, // moby's join artefact trimmed
		{"health_status: unhealthy", s("health_status"), s("unhealthy"), s("health_status: unhealthy")},
		{"health_status: healthy", s("health_status"), s("healthy"), s("health_status: healthy")},
		{"exec_create: sh -c 'a: b'", s("exec_create"), s("sh -c 'a: b'"), s("exec_create: sh -c 'a: b'")},
		{"exec_create: ", s("exec_create"), Str{}, s("exec_create: ")},
		{"exec_create:", s("exec_create:"), na, s("exec_create:")},
		{"die", s("die"), na, s("die")},
		{"", s(""), na, s("")},
		{"died", s("die"), na, s("die")},
		{"exec_died", s("exec_die"), na, s("exec_die")},
		{"died: x", s("die"), s("x"), s("die: x")},
		{"exec_died: y", s("exec_die"), s("y"), s("exec_die: y")},
		{"diedx", s("diedx"), na, s("diedx")},
		{"Died", s("Died"), na, s("Died")},
		{": x", s(""), s("x"), s(": x")},
	}
	var e Event
	for _, tc := range cases {
		msg, _ := json.Marshal(map[string]any{"Type": "container", "Action": tc.action})
		e.Parse(msg)
		if e.ActionName() != tc.name || e.ActionArgs() != tc.args || e.Action() != tc.normalised || e.RawAction() != s(tc.action) {
			t.Errorf("Action %q: name %+v args %+v action %+v raw %+v; want %+v %+v %+v", tc.action, e.ActionName(), e.ActionArgs(), e.Action(), e.RawAction(), tc.name, tc.args, tc.normalised)
		}
	}
	e.Parse([]byte(`{"Type":"container"}`))
	if e.ActionName().OK || e.ActionArgs().OK || e.Action().OK || e.Status().OK {
		t.Errorf("no Action: name %+v args %+v action %+v status %+v", e.ActionName(), e.ActionArgs(), e.Action(), e.Status())
	}
}

func TestTimeNano(t *testing.T) {
	cases := []struct {
		in string
		ts uint64
		ok bool
	}{
		{`{"time":1644314336,"timeNano":1644314336370816183}`, 1644314336370816183, true},
		{`{"timeNano":1644314336370816183,"time":1}`, 1644314336370816183, true},
		{`{"time":1644314336}`, 1644314336000000000, true},
		{`{}`, 0, false},
		{`{"Type":"container"}`, 0, false},
		{`{"timeNano":"1644314336370816183","time":1644314336}`, 1644314336000000000, true},
		{`{"timeNano":"1644314336370816183"}`, 0, false},
		{`{"timeNano":1.5e18,"time":7}`, 7000000000, true},
		{`{"timeNano":1644314336370816183.0}`, 0, false},
		{`{"timeNano":-5,"time":7}`, 7000000000, true},
		{`{"timeNano":-0,"time":7}`, 7000000000, true}, // -0 is not a timestamp (as for Probe)
		{`{"timeNano":-0}`, 0, false},
		{`{"time":-0}`, 0, false},
		{`{"timeNano":null,"time":7}`, 7000000000, true},
		{`{"timeNano":true,"time":7}`, 7000000000, true},
		{`{"timeNano":[1],"time":7}`, 7000000000, true},
		{`{"timeNano":9223372036854775807}`, 9223372036854775807, true},
		{`{"timeNano":9223372036854775808,"time":7}`, 7000000000, true},
		{`{"timeNano":99999999999999999999}`, 0, false},
		{`{"time":9223372036}`, 9223372036000000000, true},
		{`{"time":9223372037}`, 0, false},
		{`{"time":1.5}`, 0, false},
		{`{"TIMENANO":5,"TIME":6}`, 5, true},
		{`{"timeNano":1,"timeNano":2}`, 2, true},
		{`{"timeNano":1,"timeNano":"x","time":3}`, 3000000000, true},
		{`{"Actor":{"timeNano":5}}`, 0, false},
		{`{"timeNano":5`, 0, false}, // truncated: not an object, no values
	}
	var e Event
	for _, tc := range cases {
		e.Parse([]byte(tc.in))
		ts, ok := e.TimeNano()
		if ts != tc.ts || ok != tc.ok {
			t.Errorf("%s: TimeNano = %d, %v; want %d, %v", tc.in, ts, ok, tc.ts, tc.ok)
		}
		// The source (Probe) stamps the event with the same time that
		// docker.time reports.
		pts, phas, pvalid := Probe([]byte(tc.in))
		if pvalid != e.Valid() || pts != ts || phas != ok {
			t.Errorf("%s: Probe = %d, %v, %v; Event %d, %v, %v", tc.in, pts, phas, pvalid, ts, ok, e.Valid())
		}
	}
}

func TestParseHostile(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	shallow := strings.Repeat("[", maxDepth-3) + strings.Repeat("]", maxDepth-3)
	cases := []struct {
		name  string
		in    string
		valid bool
		check func(t *testing.T, e *Event)
	}{
		{"empty", "", false, nil},
		{"blank", " \n\t", false, nil},
		{"NUL", "\x00", false, nil},
		{"truncated", `{"Type":"container","Action":"start","Actor":{"ID":"c"`, false, nil},
		{"truncated string", `{"Type":"conta`, false, nil},
		{"trailing garbage", `{"Type":"container"} x`, false, nil},
		{"two objects", `{"Type":"container"}{"Type":"image"}`, false, nil},
		{"top-level array", `[{"Type":"container"}]`, false, nil},
		{"top-level string", `"container"`, false, nil},
		{"top-level null", `null`, false, nil},
		{"raw control character", "{\"Type\":\"cont\x01ainer\"}", false, nil},
		{"bad escape", `{"Type":"\x"}`, false, nil},
		{"single quotes", `{'Type':'container'}`, false, nil},
		{"trailing comma", `{"Type":"container",}`, false, nil},
		{"empty object", `{}`, true, nil},
		{"wrong types", `{"Type":1,"Action":{"a":"b"},"Actor":{"ID":5,"Attributes":"x"},"scope":[],"status":true,"id":null,"from":2}`, true, nil},
		{"Attributes as array", `{"Type":"container","Action":"die","Actor":{"ID":"c","Attributes":["exitCode","1"]}}`, true, func(t *testing.T, e *Event) {
			if len(e.Attrs()) != 0 || e.ExitCode().OK || e.From().OK || e.ActorID() != s("c") || e.Status() != s("die") {
				t.Errorf("attrs %v exit %+v from %+v actor %+v status %+v", e.Attrs(), e.ExitCode(), e.From(), e.ActorID(), e.Status())
			}
		}},
		{"Actor as string", `{"Type":"container","Action":"die","Actor":"c"}`, true, func(t *testing.T, e *Event) {
			if e.ActorID().OK || e.ID().OK || len(e.Attrs()) != 0 {
				t.Errorf("actor %+v id %+v attrs %v", e.ActorID(), e.ID(), e.Attrs())
			}
		}},
		{"non-string attribute values are skipped", `{"Type":"container","Actor":{"Attributes":{"a":1,"b":"s","c":null,"d":{"e":"f"},"g":["h"],"i":true,"exitCode":137}}}`, true, func(t *testing.T, e *Event) {
			if !reflect.DeepEqual(e.Attrs(), []Attr{{"b", "s"}}) || e.ExitCode().OK {
				t.Errorf("attrs %v exit %+v", e.Attrs(), e.ExitCode())
			}
		}},
		{"invalid UTF-8 passes through", "{\"Type\":\"container\",\"Actor\":{\"ID\":\"\xff\xfe\",\"Attributes\":{\"name\":\"a\xc3\"}}}", true, func(t *testing.T, e *Event) {
			if e.ActorID() != s("\xff\xfe") || e.Attr("name") != s("a\xc3") {
				t.Errorf("actor %q name %q", e.ActorID().S, e.Attr("name").S)
			}
		}},
		{"lone surrogate escape", `{"Type":"container","Actor":{"Attributes":{"name":"a\ud800b"}}}`, true, func(t *testing.T, e *Event) {
			if e.Attr("name") != s("a\ufffdb") {
				t.Errorf("name %q", e.Attr("name").S)
			}
		}},
		{"100 KiB attribute value", `{"Type":"container","Action":"start","Actor":{"ID":"c","Attributes":{"big":"` + big + `","name":"n"}}}`, true, func(t *testing.T, e *Event) {
			if e.Attr("big") != s(big) || e.Attr("name") != s("n") {
				t.Errorf("big attribute: %d bytes, name %+v", len(e.Attr("big").S), e.Attr("name"))
			}
		}},
		{"100 KiB attribute key", `{"Type":"container","Actor":{"Attributes":{"` + big + `":"v"}}}`, true, func(t *testing.T, e *Event) {
			if e.Attr(big) != s("v") {
				t.Errorf("big key not found")
			}
		}},
		// Nesting beyond maxDepth is refused before any recursive walk
		// (TestParseDeepNestingIsBounded), as next_batch refuses it.
		{"deeply nested arrays beside the fields", `{"Type":"container","x":` + deep + `,"Action":"die","Actor":{"ID":"c"}}`, false, nil},
		{"deeply nested arrays as an attribute", `{"Type":"container","Actor":{"Attributes":{"x":` + deep + `,"name":"n"}}}`, false, nil},
		{"nested arrays within the bound as an attribute", `{"Type":"container","Actor":{"Attributes":{"x":` + shallow + `,"name":"n"}}}`, true, func(t *testing.T, e *Event) {
			if !reflect.DeepEqual(e.Attrs(), []Attr{{"name", "n"}}) {
				t.Errorf("attrs %v", e.Attrs())
			}
		}},
		{"deeply nested, unbalanced", `{"Type":"container","x":` + deep[:150000] + `}`, false, nil},
		{"duplicate keys: last wins", `{"Type":"image","Type":"container","Actor":{"ID":"a"},"Actor":{"ID":"b"}}`, true, func(t *testing.T, e *Event) {
			if e.Type() != s("container") || e.ActorID() != s("b") {
				t.Errorf("type %+v actor %+v", e.Type(), e.ActorID())
			}
		}},
		{"duplicate attributes: Attr gives the last", `{"Type":"container","Actor":{"Attributes":{"name":"a","name":"b"}}}`, true, func(t *testing.T, e *Event) {
			if e.Attr("name") != s("b") || len(e.Attrs()) != 2 {
				t.Errorf("name %+v attrs %v", e.Attr("name"), e.Attrs())
			}
		}},
		{"a later null clears a field", `{"Type":"container","Type":null}`, true, func(t *testing.T, e *Event) {
			if e.Type().OK {
				t.Errorf("type %+v", e.Type())
			}
		}},
		{"nested Type is not the event's", `{"Actor":{"Type":"container","Attributes":{"Type":"x"}}}`, true, func(t *testing.T, e *Event) {
			if e.Type().OK || e.Attr("Type") != s("x") {
				t.Errorf("type %+v attr %+v", e.Type(), e.Attr("Type"))
			}
		}},
	}
	var e Event
	for _, tc := range cases {
		// Parse over a previous, full event: nothing may leak through.
		e.Parse([]byte(pre152Die))
		e.Parse([]byte(tc.in))
		if e.Valid() != tc.valid {
			t.Errorf("%s: Valid() = %v, want %v", tc.name, e.Valid(), tc.valid)
		}
		if string(e.Raw()) != tc.in {
			t.Errorf("%s: Raw() is not the message", tc.name)
		}
		if !tc.valid {
			if d := diffViews(viewOf(&e), view{}); d != nil {
				t.Errorf("%s: invalid message has values: %v", tc.name, d)
			}
		}
		if tc.check != nil {
			tc.check(t, &e)
		}
		line, _ := e.AppendCLI(nil, 0, nil)
		if len(line) == 0 {
			t.Errorf("%s: empty CLI line", tc.name)
		}
	}
}

func TestParseCopiesInput(t *testing.T) {
	buf := []byte(v152Exec)
	var e Event
	e.Parse(buf)
	for i := range buf {
		buf[i] = 'X'
	}
	if e.Type() != s("container") || e.ActionArgs() != s("sh -c id") || e.Attr("execID") != s(xid) || string(e.Raw()) != v152Exec {
		t.Errorf("values changed with the caller's buffer: type %+v args %+v exec %+v", e.Type(), e.ActionArgs(), e.Attr("execID"))
	}
}

func TestAttr(t *testing.T) {
	var e Event
	e.Parse([]byte(`{"Type":"container","Actor":{"Attributes":{"com.docker.compose.project":"shop","a.b.c":"1","Name":"N","name":"n","":"empty","k[x]":"br","x":""}}}`))
	cases := []struct {
		key  string
		want Str
	}{
		{"com.docker.compose.project", s("shop")}, {"a.b.c", s("1")}, {"a", na}, {"a.b", na}, {"name", s("n")}, {"Name", s("N")},
		{"NAME", na}, {"", s("empty")}, {"k[x]", s("br")}, {"x", s("")}, {"missing", na},
	}
	for _, tc := range cases {
		if got := e.Attr(tc.key); got != tc.want {
			t.Errorf("Attr(%q) = %+v, want %+v", tc.key, got, tc.want)
		}
	}
	// Attrs keeps message order.
	var keys []string
	for _, a := range e.Attrs() {
		keys = append(keys, a.Key)
	}
	if want := []string{"com.docker.compose.project", "a.b.c", "Name", "name", "", "k[x]", "x"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("Attrs order %q, want %q", keys, want)
	}
}

// Event agrees with encoding/json decoding into the Engine API's Message
// type (what the Docker CLI sees) on every realistic message.
func TestParseMatchesEncodingJSON(t *testing.T) {
	extra := []string{
		`{"TYPE":"container","action":"start","ACTOR":{"id":"c","attributes":{"Name":"n"}}}`,
		`{"T\u0079pe":"container","Actor":{"Attributes":{"com\u002edocker.x":"a\"b","image":"x\/y"}}}`,
		`{"Type":null,"Action":null,"Actor":null,"scope":null}`,
		`{"Type":"container","Actor":{"ID":"c","Attributes":null}}`,
		`{"Type":"container","Actor":{"Attributes":{"name":"a\ud800b"}}}`,
	}
	for _, msg := range append(append(append([]string(nil), realistic...), recorded...), extra...) {
		ref, ok := refDecode([]byte(msg))
		if !ok {
			t.Errorf("not a fair reference: %s", msg)
			continue
		}
		compareWithRef(t, msg, ref)
	}
}

func compareWithRef(t *testing.T, msg string, ref refMessage) {
	t.Helper()
	var e Event
	e.Parse([]byte(msg))
	if !e.Valid() {
		t.Fatalf("%.300q: encoding/json decodes it, Event says invalid", msg)
	}
	status, id, from := refDeprecated(ref)
	for _, c := range []struct {
		name      string
		got, want string
	}{
		{"Type", e.Type().S, ref.Type}, {"RawAction", e.RawAction().S, ref.Action}, {"Action", e.Action().S, refAction(ref)},
		{"ActorID", e.ActorID().S, ref.Actor.ID}, {"Scope", e.Scope().S, ref.Scope},
		{"Status", e.Status().S, status}, {"ID", e.ID().S, id}, {"From", e.From().S, from},
	} {
		if c.got != c.want {
			t.Fatalf("%.300q: %s = %q, encoding/json reference %q", msg, c.name, c.got, c.want)
		}
	}
	got := map[string]string{}
	for _, a := range e.Attrs() {
		got[a.Key] = a.Value
	}
	if len(got) != len(ref.Actor.Attributes) || (len(got) > 0 && !reflect.DeepEqual(got, ref.Actor.Attributes)) {
		t.Fatalf("%.300q: attributes %q, encoding/json reference %q", msg, got, ref.Actor.Attributes)
	}
	wantExit, hasExit := refExitCode(ref)
	if e.ExitCode() != (Str{S: wantExit, OK: hasExit}) {
		t.Fatalf("%.300q: ExitCode %+v, want %q, %v", msg, e.ExitCode(), wantExit, hasExit)
	}
}

// Steady-state parsing allocates nothing (the package's promise: the
// extraction path runs per event and per field).
func TestParseAllocs(t *testing.T) {
	var e Event
	for _, msg := range realistic {
		data := []byte(msg)
		e.Parse(data)
		if n := testing.AllocsPerRun(100, func() { e.Parse(data) }); n != 0 {
			t.Errorf("Parse allocates %v times per call on %.80s", n, msg)
		}
	}
}

// TestParseDeepNestingIsBounded: a payload nested millions deep (a .scap
// replayed by Falco carries payloads that never went through next_batch's
// checks) must not reach a recursive walk. Go's stack overflow is a fatal
// error that no recover contains: it would kill Falco. The test lowers the
// maximum stack so that an unbounded recursion fails fast and for sure.
func TestParseDeepNestingIsBounded(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(8 << 20))
	const depth = 4 << 20
	for name, in := range map[string]string{
		"arrays":             `{"Type":"container","x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`,
		"objects":            `{"Type":"container","x":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + `}`,
		"unterminated":       `{"Type":"container","Actor":{"Attributes":` + strings.Repeat("[", depth),
		"top level":          strings.Repeat("[", depth) + strings.Repeat("]", depth),
		"inside the Actor":   `{"Type":"container","Actor":{"ID":"c","Attributes":{"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}}`,
		"after valid fields": `{"Type":"container","Action":"die","Actor":{"ID":"c"},"z":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`,
	} {
		var e Event
		e.Parse([]byte(in))
		if e.Valid() || e.Type().OK || e.ActorID().OK {
			t.Errorf("%s: a payload nested %d deep is accepted (valid %v, type %+v)", name, depth, e.Valid(), e.Type())
		}
		if line, _ := e.AppendCLI(nil, 1, nil); !strings.HasSuffix(string(line), "<malformed event>") {
			t.Errorf("%s: CLI line %.80q", name, line)
		}
	}
	// Within the bound, nesting beside the fields is fine.
	ok := `{"Type":"container","x":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `,"Action":"die"}`
	var e Event
	e.Parse([]byte(ok))
	if !e.Valid() || e.Action() != s("die") {
		t.Errorf("nesting within maxDepth: valid %v action %+v", e.Valid(), e.Action())
	}
}
