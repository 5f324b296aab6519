package tests

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// makeEvent builds a plugin event image around payload, as Falco stores it.
func makeEvent(payload []byte, typ uint16, nparams uint32) []byte {
	b := make([]byte, harness.PayloadOffset+len(payload))
	binary.LittleEndian.PutUint64(b[0:], 1700000000000000000)
	binary.LittleEndian.PutUint64(b[8:], ^uint64(0))
	binary.LittleEndian.PutUint32(b[16:], uint32(len(b)))
	binary.LittleEndian.PutUint16(b[20:], typ)
	binary.LittleEndian.PutUint32(b[22:], nparams)
	binary.LittleEndian.PutUint32(b[26:], 4)
	binary.LittleEndian.PutUint32(b[30:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[34:], 5)
	copy(b[harness.PayloadOffset:], payload)
	return b
}

const sampleEvent = `{"status":"create","id":"` + c1 + `","from":"alpine:3.20","Type":"container","Action":"create","Actor":{"ID":"` + c1 + `","Attributes":{"image":"alpine:3.20","name":"confident_kirch","com.docker.compose.project":"shop"}},"scope":"local","time":1644314336,"timeNano":1644314336370816183}`

func allRequests(t *testing.T) []harness.Request {
	t.Helper()
	fields, err := plug.Fields()
	if err != nil {
		t.Fatal(err)
	}
	var reqs []harness.Request
	for id, f := range fields {
		r := harness.Request{ID: uint32(id), Name: f.Name, Type: f.TypeCode(), IsList: f.IsList, Garbage: true}
		if f.Arg.IsRequired {
			r.Arg, r.HasArg = "name", true
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func TestExtractManyFieldsInOneCall(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	store := harness.NewEventStore(4, "docker")
	defer store.Free()
	store.AddBytes(makeEvent([]byte(sampleEvent), 322, 2), 0)
	reqs := allRequests(t)
	// The same field id twice with different arguments: both results must
	// stay valid until the next call.
	reqs = append(reqs,
		harness.Request{ID: reqs[0].ID, Name: reqs[0].Name, Type: reqs[0].Type},
	)
	attrs, _ := fieldByName(t, mustFields(t), "docker.attributes")
	reqs = append(reqs,
		harness.Request{ID: attrs, Name: "docker.attributes", Type: harness.TypeString, Arg: "image", HasArg: true},
		harness.Request{ID: attrs, Name: "docker.attributes", Type: harness.TypeString, Arg: "com.docker.compose.project", HasArg: true},
		harness.Request{ID: attrs, Name: "docker.attributes", Type: harness.TypeString, Arg: "absent", HasArg: true},
	)
	all := plug.Extract(s, store, 0, reqs, true)
	if all.RC != harness.Success {
		t.Fatalf("rc=%d: %s", all.RC, plug.LastError(s))
	}
	for k, r := range reqs {
		one := plug.Extract(s, store, 0, []harness.Request{r}, false)
		if one.RC != harness.Success {
			t.Fatalf("%s: rc=%d", r.Name, one.RC)
		}
		if fmt.Sprint(one.Values[0]) != fmt.Sprint(all.Values[k]) {
			t.Errorf("%s[%s]: one call %v, many-field call %v", r.Name, r.Arg, one.Values[0], all.Values[k])
		}
	}
	n := len(reqs)
	if got := all.Values[n-3].Strs; len(got) != 1 || got[0] != "alpine:3.20" {
		t.Errorf("docker.attributes[image] = %v", got)
	}
	if got := all.Values[n-2].Strs; len(got) != 1 || got[0] != "shop" {
		t.Errorf("docker.attributes[com.docker.compose.project] = %v", got)
	}
	if all.Values[n-1].Present {
		t.Errorf("docker.attributes[absent] = %v, want <NA>", all.Values[n-1])
	}
	// value_offsets requested: the plugin reports {0,0} (no offsets).
	if len(all.Offsets) != n {
		t.Fatalf("offsets: got %d entries, want %d", len(all.Offsets), n)
	}
	for k, o := range all.Offsets {
		if o != [2]uint32{0, 0} {
			t.Errorf("offset %d = %v, want {0,0}", k, o)
		}
	}
}

func mustFields(t *testing.T) []harness.Field {
	t.Helper()
	f, err := plug.Fields()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExtractErrors(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	store := harness.NewEventStore(8, "docker")
	defer store.Free()
	good := store.AddBytes(makeEvent([]byte(sampleEvent), 322, 2), 1)
	other := store.AddBytes(makeEvent([]byte(sampleEvent), 322, 2), 2)
	store.SetSource(other, "syscall")
	notPlugin := store.AddBytes(makeEvent([]byte(sampleEvent), 1, 2), 3)
	badParams := store.AddBytes(makeEvent([]byte(sampleEvent), 322, 7), 4)
	// A payload length larger than the event: must not be read.
	lying := makeEvent([]byte(sampleEvent), 322, 2)
	binary.LittleEndian.PutUint32(lying[30:], 1<<30)
	liar := store.AddBytes(lying, 5)

	fields := mustFields(t)
	typeID, typeF := fieldByName(t, fields, "docker.type")
	attrID, _ := fieldByName(t, fields, "docker.attributes")
	cases := []struct {
		name string
		k    int
		req  harness.Request
		want string
	}{
		{"unknown field id", good, harness.Request{ID: 9999, Name: "docker.nope", Type: harness.TypeString}, "unknown field id 9999"},
		{"other event source", other, harness.Request{ID: typeID, Name: typeF.Name, Type: harness.TypeString}, `source "syscall"`},
		{"not a plugin event", notPlugin, harness.Request{ID: typeID, Name: typeF.Name, Type: harness.TypeString}, "type 1"},
		{"bad parameter count", badParams, harness.Request{ID: typeID, Name: typeF.Name, Type: harness.TypeString}, "7 parameters"},
		{"payload length lies", liar, harness.Request{ID: typeID, Name: typeF.Name, Type: harness.TypeString}, "exceeds event length"},
		{"missing key argument", good, harness.Request{ID: attrID, Name: "docker.attributes", Type: harness.TypeString}, "requires an attribute key"},
		{"wrong type requested", good, harness.Request{ID: typeID, Name: typeF.Name, Type: harness.TypeUint64}, "declared string"},
	}
	for _, c := range cases {
		res := plug.Extract(s, store, c.k, []harness.Request{c.req}, false)
		if res.RC != harness.Failure {
			t.Errorf("%s: rc=%d, want failure", c.name, res.RC)
			continue
		}
		if msg := plug.LastError(s); !strings.Contains(msg, c.want) {
			t.Errorf("%s: last error %q, want it to mention %q", c.name, msg, c.want)
		}
	}
	// After errors, extraction still works.
	res := plug.Extract(s, store, good, []harness.Request{{ID: typeID, Name: typeF.Name, Type: harness.TypeString}}, false)
	if res.RC != harness.Success || res.Values[0].Strs[0] != "container" {
		t.Fatalf("extraction after errors: rc=%d %v", res.RC, res.Values)
	}
	if m := plug.MetricsMap(s); m["extract_errors"] != uint64(len(cases)) {
		t.Errorf("extract_errors metric = %d, want %d", m["extract_errors"], len(cases))
	}
}

// TestExtractHostile extracts every field from hostile payloads: a clean
// <NA> (or a value) for each, never a crash, a hang or an out-of-bounds read.
func TestExtractHostile(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 4096)
	rng.Read(random)
	big := strings.Repeat("A", 100<<10)
	payloads := map[string][]byte{
		"random bytes":         random,
		"empty":                nil,
		"truncated":            []byte(sampleEvent[:len(sampleEvent)/2]),
		"array":                []byte(`[1,2,3]`),
		"string":               []byte(`"container"`),
		"timeNano string":      []byte(`{"Type":"container","Action":"die","timeNano":"1644314336370816183","Actor":{"ID":"x"}}`),
		"attributes array":     []byte(`{"Type":"container","Action":"die","Actor":{"ID":"x","Attributes":["exitCode","1"]}}`),
		"wrong types":          []byte(`{"Type":5,"Action":true,"Actor":{"ID":{},"Attributes":{"exitCode":137,"name":null}},"scope":[],"time":"x"}`),
		"invalid utf8":         append(append([]byte(`{"Type":"container","Action":"st`), 0xff, 0xfe), []byte(`art","Actor":{"ID":"\xc3\x28"}}`)...),
		"100 KiB attribute":    []byte(`{"Type":"container","Action":"create","Actor":{"ID":"x","Attributes":{"name":"` + big + `","image":"` + big + `"}}}`),
		"deeply nested arrays": []byte(`{"Type":"container","Actor":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`),
		"deep unterminated":    bytes.Repeat([]byte("{\"a\":"), 50000),
		"nul bytes":            []byte("{\"Type\":\"cont\x00ainer\"}\x00\x00"),
		"huge numbers":         []byte(`{"Type":"container","Action":"die","timeNano":99999999999999999999999,"time":-5,"Actor":{"ID":"x","Attributes":{"exitCode":"99999999999999999999999"}}}`),
	}
	reqs := allRequests(t)
	store := harness.NewEventStore(len(payloads), "docker")
	defer store.Free()
	k := 0
	for name, p := range payloads {
		store.AddBytes(makeEvent(p, 322, 2), uint64(k))
		// One field per call, then all at once.
		for _, r := range reqs {
			res := plug.Extract(s, store, k, []harness.Request{r}, false)
			if res.RC != harness.Success {
				t.Errorf("%s: %s rc=%d: %s", name, r.Name, res.RC, plug.LastError(s))
			}
		}
		if res := plug.Extract(s, store, k, reqs, false); res.RC != harness.Success {
			t.Errorf("%s: all fields rc=%d: %s", name, res.RC, plug.LastError(s))
		} else if name == "100 KiB attribute" {
			id, _ := fieldByName(t, mustFields(t), "docker.attributes.name")
			if v := res.Values[id]; !v.Present || len(v.Strs[0]) != len(big) {
				t.Errorf("100 KiB attribute not extracted whole")
			}
		}
		if str := plug.EventToString(s, store, k); str == "" {
			t.Errorf("%s: empty event_to_string", name)
		}
		k++
	}
}

// TestExtractCacheByEventNumber: the parsed event is cached; event number 0
// is a real event, and a different event with a reused number is not
// answered from the cache.
func TestExtractCacheByEventNumber(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	store := harness.NewEventStore(4, "docker")
	defer store.Free()
	a := store.AddBytes(makeEvent([]byte(`{"Type":"network","Action":"create","Actor":{"ID":"n"}}`), 322, 2), 0)
	b := store.AddBytes(makeEvent([]byte(`{"Type":"volume","Action":"create","Actor":{"ID":"v"}}`), 322, 2), 0)
	id, f := fieldByName(t, mustFields(t), "docker.type")
	for round := 0; round < 3; round++ {
		for k, want := range map[int]string{a: "network", b: "volume"} {
			if got := extractOne(t, s, store, k, id, f, "", false); !got.Present || got.Strs[0] != want {
				t.Fatalf("round %d event %d: docker.type = %v, want %s", round, k, got, want)
			}
		}
	}
}

// TestExtractValueTable: repeated extractions of an event are answered from
// its value table (abi/extract.c) and must be what a fresh extraction says,
// whatever the order of events, fields and key arguments, in the way Falco
// calls: one buffer reused for every event, event numbers counting up.
func TestExtractValueTable(t *testing.T) {
	needDocker(t)
	corpus := genCorpus(300, 7)
	fields := mustFields(t)
	attrID, _ := fieldByName(t, fields, "docker.attributes")
	reqs := allRequests(t)
	// More key arguments than the table holds (DOCKER_XMAX_ARGS, 16).
	for _, key := range []string{"image", "name", "execID", "exitCode", "signal", "container", "type", "driver",
		"com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.version",
		"com.docker.compose.container-number", "com.docker.compose.oneoff", "org.opencontainers.image.source",
		"org.opencontainers.image.version", "destination", "propagation", "read/write", "com.example.team.label07", "absent"} {
		reqs = append(reqs, harness.Request{ID: attrID, Name: "docker.attributes", Type: harness.TypeString, Arg: key, HasArg: true})
	}

	// What a fresh plugin state says for each event, all fields in one call.
	fresh := func(line []byte) []string {
		s, rc := plug.Init("")
		if rc != harness.Success {
			t.Fatal(plug.LastError(s))
		}
		defer plug.Destroy(s)
		store := harness.NewEventStore(1, "docker")
		defer store.Free()
		store.AddBytes(makeEvent(line, 322, 2), 0)
		res := plug.Extract(s, store, 0, reqs, false)
		if res.RC != harness.Success {
			t.Fatalf("rc=%d: %s", res.RC, plug.LastError(s))
		}
		out := make([]string, len(reqs))
		for k, v := range res.Values {
			out[k] = fmt.Sprint(v)
		}
		return out
	}
	want := make([][]string, len(corpus))
	for k, line := range corpus {
		want[k] = fresh(line)
	}

	s := initOK(t, "")
	store := harness.NewEventStore(1, "docker")
	defer store.Free()
	const size = 64 << 10
	slot := store.AddBytesCap(makeEvent([]byte(`{}`), 322, 2), 0, size)
	rng := rand.New(rand.NewSource(3))
	num := uint64(100)
	for round := 0; round < 3; round++ {
		for k, line := range corpus {
			store.Overwrite(slot, makeEvent(line, 322, 2), num)
			num++
			// Falco's order: some fields several times, one per call, in
			// an order that varies; then all at once (outputs).
			for _, i := range append(rng.Perm(len(reqs))[:20], rng.Perm(len(reqs))...) {
				res := plug.Extract(s, store, slot, reqs[i:i+1], false)
				if res.RC != harness.Success {
					t.Fatalf("event %d %s[%s]: rc=%d: %s", k, reqs[i].Name, reqs[i].Arg, res.RC, plug.LastError(s))
				}
				if got := fmt.Sprint(res.Values[0]); got != want[k][i] {
					t.Fatalf("round %d event %d %s[%s] = %s, a fresh state says %s", round, k, reqs[i].Name, reqs[i].Arg, got, want[k][i])
				}
			}
			res := plug.Extract(s, store, slot, reqs, true)
			if res.RC != harness.Success {
				t.Fatalf("event %d, all fields: rc=%d: %s", k, res.RC, plug.LastError(s))
			}
			for i, v := range res.Values {
				if got := fmt.Sprint(v); got != want[k][i] {
					t.Fatalf("round %d event %d, all fields: %s[%s] = %s, a fresh state says %s", round, k, reqs[i].Name, reqs[i].Arg, got, want[k][i])
				}
			}
		}
	}

	// The same number and address with other bytes is another event.
	store.Overwrite(slot, makeEvent(corpus[0], 322, 2), 7)
	id, f := fieldByName(t, fields, "docker.actor.id")
	a := extractOne(t, s, store, slot, id, f, "", false)
	store.Overwrite(slot, makeEvent(corpus[1], 322, 2), 7)
	if b := extractOne(t, s, store, slot, id, f, "", false); fmt.Sprint(a) == fmt.Sprint(b) {
		t.Errorf("another event with the same number and address answered from the table: %v", b)
	}
}

// TestExtractValuesStayValid: a value is valid until the next call, as the
// API requires, even when that call is for another event (the plugin keeps
// the values of the event before the current one).
func TestExtractValuesStayValid(t *testing.T) {
	needDocker(t)
	s := initOK(t, "")
	store := harness.NewEventStore(3, "docker")
	defer store.Free()
	a := store.AddBytes(makeEvent([]byte(`{"Type":"container","Action":"start","Actor":{"ID":"aaa","Attributes":{"name":"first"}}}`), 322, 2), 1)
	b := store.AddBytes(makeEvent([]byte(`{"Type":"container","Action":"start","Actor":{"ID":"bbb","Attributes":{"name":"second"}}}`), 322, 2), 2)
	fields := mustFields(t)
	nameID, nameF := fieldByName(t, fields, "docker.container.name")
	typeID, typeF := fieldByName(t, fields, "docker.type")
	attrID, _ := fieldByName(t, fields, "docker.attributes")
	name := harness.Request{ID: nameID, Name: nameF.Name, Type: harness.TypeString}
	typ := harness.Request{ID: typeID, Name: typeF.Name, Type: harness.TypeString}
	for round := 0; round < 3; round++ { // the first round fills the table, the others answer from it
		_, v := plug.ExtractRaw(s, store, a, name)
		plug.ExtractRaw(s, store, a, typ)
		if got := v.String(); got != "first" {
			t.Fatalf("round %d: after another call for the same event: %q", round, got)
		}
		_, w := plug.ExtractRaw(s, store, b, name)
		if got := v.String(); got != "first" {
			t.Fatalf("round %d: after a call for another event: %q", round, got)
		}
		// Uncached values (more keys than the table holds) too.
		var last harness.CStr
		for k := 0; k < 20; k++ {
			_, last = plug.ExtractRaw(s, store, b, harness.Request{ID: attrID, Name: "docker.attributes", Type: harness.TypeString, Arg: fmt.Sprintf("k%d", k), HasArg: true})
		}
		_, x := plug.ExtractRaw(s, store, b, harness.Request{ID: attrID, Name: "docker.attributes", Type: harness.TypeString, Arg: "name", HasArg: true})
		plug.ExtractRaw(s, store, b, typ)
		if got := w.String() + "/" + x.String() + "/" + last.String(); got != "second/second/" {
			t.Fatalf("round %d: %q", round, got)
		}
	}
}
