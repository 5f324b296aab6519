package conformance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// request is one field request as sinsp_filter_check_plugin builds it.
type request struct {
	f   field
	raw harness.RawField
}

func (r request) String() string {
	switch {
	case r.raw.KeyArg:
		return fmt.Sprintf("%s[%s]", r.f.Name, quote(r.raw.ArgKey))
	case r.raw.ArgPresent:
		return fmt.Sprintf("%s[%d]", r.f.Name, r.raw.ArgIndex)
	}
	return r.f.Name
}

// newRequest builds the request Falco sends for field f with argument arg
// (nil: none). As in parse_field_name: arg_index is -1 unless an index was
// given, arg_key is set for key fields only, arg_present when an argument
// was written.
func newRequest(f field, arg *string) request {
	r := harness.RawField{ID: f.ID, Name: f.Name, Type: f.Code, List: f.List, ArgIndex: math.MaxUint64}
	if arg != nil {
		r.ArgPresent = true
		if f.ArgIndex {
			if v, ok := parseIndex(*arg); ok {
				r.ArgIndex = v
			}
		}
		if f.ArgKey {
			r.KeyArg, r.ArgKey = true, *arg
		}
	}
	return request{f, r}
}

// parseIndex reads an index argument as extract_arg_index does: digits
// only, no leading zero, representable on 64 bits.
func parseIndex(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var v uint64
	for _, ch := range []byte(s) {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// plainRequests are the requests extract.values sends for a field: no
// argument, or a benign one when the argument is required ("name" for a
// key, 1 for an index; extract.args tries the others, 0 included).
func plainRequests(f field) []request {
	if f.ArgRequired {
		a := "name"
		if !f.ArgKey {
			a = "1"
		}
		return []request{newRequest(f, &a)}
	}
	return []request{newRequest(f, nil)}
}

// Arguments a rule can give a field, as parse_field_name hands them over:
// what a bare or quoted string holds up to the first ']' and without white
// space (the field name is cut at the first space). field[""] gives "".
var (
	keyArgs   = []string{"", "name", strings.Repeat("k", 4096), "ключ🔑", "a.b[c", "0", "-1", `"quoted"`, "\\", "\x7f"}
	indexArgs = []string{"0", "1", "4294967296", "18446744073709551615"}
)

func argRequests(f field) []request {
	var out []request
	if f.ArgKey {
		for _, a := range keyArgs {
			a := a
			out = append(out, newRequest(f, &a))
		}
	}
	if f.ArgIndex {
		for _, a := range indexArgs {
			a := a
			out = append(out, newRequest(f, &a))
		}
	}
	return out
}

// extractEvent extracts every field from a batch event, as the loop sees it.
func (c *child) extractEvent(e harness.Ptr, num uint64, src harness.CString, evLen uint32) {
	var all []request
	for _, f := range c.m.fields {
		if c.skipField[f.Name] {
			continue
		}
		plain := plainRequests(f)
		all = append(all, plain...)
		if c.want("extract.values") {
			for _, r := range plain {
				for _, off := range []bool{false, true} {
					c.extractOne("extract.values", e, num, src, evLen, []request{r}, off)
				}
			}
		}
		if c.want("extract.args") && f.takesArg() {
			for _, r := range argRequests(f) {
				c.extractOne("extract.args", e, num, src, evLen, []request{r}, false)
			}
		}
	}
	if c.want("extract.values") && len(all) > 1 {
		c.extractOne("extract.values", e, num, src, evLen, all, false)
	}
}

// extractOne makes one plugin_extract_fields call and checks its results
// for check id. A field whose values broke the contract in extract.values
// is not reported again by the other checks (one violation, one check).
func (c *child) extractOne(id string, e harness.Ptr, num uint64, src harness.CString, evLen uint32, reqs []request, offsets bool) {
	desc, fieldName := "all fields", ""
	if len(reqs) == 1 {
		desc, fieldName = reqs[0].String(), reqs[0].f.Name
	}
	if offsets {
		desc += " with value offsets"
	}
	c.crumb(id, "", fmt.Sprintf("plugin_extract_fields(%s) on event %d", desc, num), fieldName)
	raws := make([]harness.RawField, len(reqs))
	for k, r := range reqs {
		raws[k] = r.raw
	}
	rc, vals, starts, lengths := c.p.ExtractPtr(c.state, e, num, src, raws, offsets)
	c.loop.extractCalls[id]++
	switch rc {
	case harness.Success:
	case harness.Failure:
		if id == "extract.values" && len(reqs) == 1 {
			c.f.warn(id, "failure:"+fieldName, "extraction of %s fails on the plugin's own event: Falco reads it as no value", desc)
		}
		return
	default:
		c.f.fail(id, "rc", "plugin_extract_fields(%s) returned rc %s, neither SUCCESS nor FAILURE", desc, rcName(rc))
		return
	}
	for k, r := range reqs {
		if id != "extract.values" && c.badField[r.f.Name] {
			continue
		}
		if msg := checkValue(r, vals[k]); msg != "" {
			if id == "extract.values" {
				c.badField[r.f.Name] = true
			}
			c.f.fail(id, "value:"+r.f.Name, "%s: %s", r, msg)
			continue
		}
		if id == "extract.values" && vals[k].Len > 0 {
			c.loop.valued[r.f.ID] = true
		}
	}
	if offsets && starts != 0 && lengths != 0 {
		n := len(reqs)
		st, ln := harness.SafeRead(starts, 4*n), harness.SafeRead(lengths, 4*n)
		if len(st) < 4*n || len(ln) < 4*n {
			c.f.fail(id, "offsets", "%s: the value offset arrays are not readable: Falco reads them", desc)
			return
		}
		for k := 0; k < n; k++ {
			s, l := u32(st[4*k:]), u32(ln[4*k:])
			if (s != 0 || l != 0) && uint64(s)+uint64(l) > uint64(evLen) {
				c.f.warn(id, "offset:"+reqs[k].f.Name, "%s: value offset %d+%d beyond the event's %d bytes", reqs[k], s, l, evLen)
			}
		}
	}
}

// checkValue checks one extracted value against the field's declaration
// and returns what is wrong ("" when nothing).
func checkValue(r request, v harness.RawValue) string {
	switch {
	case v.Len == harness.ResLenUnset:
		return "res_len left unset after SUCCESS: Falco reads an uninitialized count"
	case v.Len == 0:
		return ""
	case v.Len > 1 && !r.f.List:
		return fmt.Sprintf("%d values for a field that is not a list (res_len must be 0 or 1)", v.Len)
	case v.Len > 1<<20:
		return fmt.Sprintf("res_len %d", v.Len)
	case v.Res == harness.PtrUnset:
		return fmt.Sprintf("res left unset with res_len %d", v.Len)
	case v.Res == 0:
		return fmt.Sprintf("res is NULL with res_len %d: Falco reads it and crashes", v.Len)
	}
	n := int(v.Len)
	elem := 8
	switch r.f.Code {
	case harness.TypeBool:
		elem = 4
	case harness.TypeIPAddr, harness.TypeIPNet:
		elem = 16 // ss_plugin_byte_buffer
	}
	b := harness.SafeRead(v.Res, n*elem)
	if len(b) < n*elem {
		return fmt.Sprintf("res (%#x) does not point to %d readable values: Falco reads them and crashes", uintptr(v.Res), n)
	}
	for k := 0; k < n; k++ {
		switch r.f.Code {
		case harness.TypeString:
			p := harness.Ptr(binary.LittleEndian.Uint64(b[8*k:]))
			if _, st := harness.SafeCString(p, 16<<20); st != harness.StrOK {
				return fmt.Sprintf("value %d: the string pointer %#x is %s: Falco calls strlen on it and crashes (a value of another type?)", k, uintptr(p), st)
			}
		case harness.TypeBool:
			if x := binary.LittleEndian.Uint32(b[4*k:]); x > 1 {
				return fmt.Sprintf("bool value %d is %d, neither 0 nor 1", k, x)
			}
		case harness.TypeIPAddr, harness.TypeIPNet:
			l := binary.LittleEndian.Uint32(b[16*k:])
			p := harness.Ptr(binary.LittleEndian.Uint64(b[16*k+8:]))
			if r.f.Code == harness.TypeIPAddr && l != 4 && l != 16 {
				return fmt.Sprintf("ipaddr value %d has %d bytes, neither 4 (IPv4) nor 16 (IPv6)", k, l)
			}
			if l == 0 || len(harness.SafeRead(p, int(l))) < int(l) {
				return fmt.Sprintf("value %d: %d bytes at %#x are not readable", k, l, uintptr(p))
			}
		}
	}
	return ""
}

// hostilePayloads are payloads of the plugin's own source that a capture
// file may hold: empty, cut, flipped, random, not UTF-8, deep, big.
func hostilePayloads(kept [][]byte) [][]byte {
	rng := rand.New(rand.NewSource(16))
	random := make([]byte, 256)
	rng.Read(random)
	out := [][]byte{nil, {'{'}, {0}, []byte("\xff\xfe\xfd\xfc"), random, []byte("{}"), []byte("null"),
		bytes.Repeat([]byte("["), 65536), bytes.Repeat([]byte(`{"a":`), 20000), bytes.Repeat([]byte("x"), 1<<20)}
	for k, p := range kept {
		if k == 4 {
			break
		}
		out = append(out, p[:len(p)/2])
		if len(p) > 1 {
			out = append(out, p[:len(p)-1])
		}
		flipped := append([]byte(nil), p...)
		if len(flipped) > 0 {
			flipped[len(flipped)/2] ^= 0xff
		}
		out = append(out, flipped, append(append([]byte(nil), p...), 0xff, 0))
	}
	return out
}

// pluginEvent builds a plugin event image (header, parameters, payload).
func pluginEvent(id uint32, payload []byte) []byte {
	n := payloadOffset + len(payload)
	b := make([]byte, n)
	binary.LittleEndian.PutUint64(b[0:], uint64(time.Now().UnixNano()))
	binary.LittleEndian.PutUint64(b[8:], math.MaxUint64)
	binary.LittleEndian.PutUint32(b[16:], uint32(n))
	binary.LittleEndian.PutUint16(b[20:], pluginEventType)
	binary.LittleEndian.PutUint32(b[22:], 2)
	binary.LittleEndian.PutUint32(b[26:], 4)
	binary.LittleEndian.PutUint32(b[30:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[34:], id)
	copy(b[payloadOffset:], payload)
	return b
}

// hostileTarget is the source and plugin id hostile events carry: the
// plugin's own, or for an extractor without a source the first source it
// extracts from.
func (c *child) hostileTarget() (string, uint32) {
	if c.m.sourcing && c.m.id != 0 {
		return c.m.source, c.m.id
	}
	for _, s := range c.m.extractSources {
		if s != "syscall" && s != "" {
			return s, 999999
		}
	}
	return "conformance", 999999
}

// extractPhase: hostile events, and requests Falco never sends.
func (c *child) extractPhase() {
	c.phase("extract.unknown", "extract.hostile")
	if !c.m.extraction {
		c.skip("no field extraction capability (or fields refused)", "extract.hostile", "extract.unknown")
		return
	}
	srcName, id := c.hostileTarget()
	src := harness.NewCString(srcName)
	defer src.Free()
	c.loop.evtnum += 1000
	// The unknown requests first: they go with one of the plugin's own
	// events, before hostile events can take the process down.
	if c.want("extract.unknown") {
		if c.m.sourcing && len(c.loop.kept) == 0 {
			c.skip("no event of the plugin's own source at hand to send them with", "extract.unknown")
		} else {
			c.unknownRequests(srcName, id)
			c.report("extract.unknown")
		}
	}
	if c.want("extract.hostile") {
		payloads := hostilePayloads(c.loop.kept)
		for _, p := range payloads {
			ev := pluginEvent(id, p)
			e := harness.CBytes(ev)
			c.loop.evtnum++
			for _, f := range c.m.fields {
				if c.skipField[f.Name] {
					continue
				}
				for _, r := range plainRequests(f) {
					c.extractOne("extract.hostile", e, c.loop.evtnum, src, uint32(len(ev)), []request{r}, false)
				}
			}
			if c.m.sourcing {
				c.eventToString("extract.hostile", e, c.loop.evtnum, src)
			}
			harness.FreePtr(e)
		}
		c.f.note("extract.hostile", "%d hostile events of source %q, %d fields each (%d calls)", len(payloads), srcName, len(c.m.fields), c.loop.extractCalls["extract.hostile"])
		c.report("extract.hostile")
	}
}

// unknownRequests sends what Falco never sends; only a crash (or a hang)
// is a finding, charged by the parent.
func (c *child) unknownRequests(srcName string, id uint32) {
	const cid = "extract.unknown"
	payload := []byte("{}")
	if len(c.loop.kept) > 0 {
		payload = c.loop.kept[0]
	}
	ev := pluginEvent(id, payload)
	e := harness.CBytes(ev)
	defer harness.FreePtr(e)
	src := harness.NewCString(srcName)
	defer src.Free()
	other := harness.NewCString("conformance_other")
	defer other.Free()
	f0 := c.m.fields[0]
	var answers []string
	defer func() {
		c.f.note(cid, "%d requests, no crash: %s", len(answers), strings.Join(answers, "; "))
	}()
	call := func(desc string, s harness.CString, ptr harness.Ptr, raws []harness.RawField) {
		c.loop.evtnum++
		c.crumb(cid, "", "plugin_extract_fields("+desc+")", "")
		rc, _, _, _ := c.p.ExtractPtr(c.state, ptr, c.loop.evtnum, s, raws, false)
		answers = append(answers, desc+": "+rcName(rc))
	}
	n := uint32(len(c.m.fields))
	call("unknown field id", src, e, []harness.RawField{{ID: n + 7, Name: "conformance.unknown", Type: harness.TypeString, ArgIndex: math.MaxUint64}})
	call("field id beyond uint16", src, e, []harness.RawField{{ID: 1 << 20, Name: f0.Name, Type: f0.Code, ArgIndex: math.MaxUint64}})
	if len(c.m.fields) > 1 {
		f1 := c.m.fields[1]
		call("id of one field, name of another", src, e, []harness.RawField{{ID: f0.ID, Name: f1.Name, Type: f1.Code, List: f1.List, ArgIndex: math.MaxUint64}})
	}
	for _, f := range c.m.fields {
		if f.ArgRequired {
			call(f.Name+" without its required argument", src, e, []harness.RawField{{ID: f.ID, Name: f.Name, Type: f.Code, List: f.List, ArgIndex: math.MaxUint64}})
			break
		}
	}
	for _, f := range c.m.fields {
		if f.Code == harness.TypeString {
			call(f.Name+" requested as uint64", src, e, []harness.RawField{{ID: f.ID, Name: f.Name, Type: harness.TypeUint64, ArgIndex: math.MaxUint64}})
			break
		}
	}
	evOther := harness.CBytes(pluginEvent(id+1, payload))
	defer harness.FreePtr(evOther)
	call("an event of another source and plugin id", other, evOther, []harness.RawField{{ID: f0.ID, Name: f0.Name, Type: f0.Code, List: f0.List, ArgIndex: math.MaxUint64}})
	call("zero fields", src, e, nil)
}
