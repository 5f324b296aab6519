package conformance

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// The checks of the source part of the suite, reported together after the
// next_batch loop.
var loopChecks = []string{"next-batch.contract", "next-batch.eof", "next-batch.blocking", "events.type",
	"events.plugin-id", "events.length", "events.timestamp", "events.writable", "extract.values", "extract.args",
	"event-to-string", "progress", "info.events"}

// badOpenParams is what open.bad-params opens: no plugin can use it.
const badOpenParams = "\x01conformance: not an open parameter\x7f"

// quote shortens and quotes a config or params string for a crumb or detail.
func quote(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return strconv.Quote(s)
}

func rcName(rc int32) string {
	switch rc {
	case harness.Success:
		return "SUCCESS"
	case harness.Failure:
		return "FAILURE"
	case harness.Timeout:
		return "TIMEOUT"
	case harness.EOF:
		return "EOF"
	case harness.NotSupported:
		return "NOT_SUPPORTED"
	case harness.RCUnset:
		return "unset"
	}
	return strconv.Itoa(int(rc))
}

// lastErr reads plugin_get_last_error after a failed call, as Falco does,
// checks it for the last-error check, and returns it.
func (c *child) lastErr(s harness.State, call string) string {
	if !c.want("last-error") {
		return "(not read: plugin_get_last_error faulted before, see last-error)"
	}
	c.crumb("last-error", "", "plugin_get_last_error after "+call, "")
	msg, st := harness.SafeCString(c.p.LastErrorPtr(s), 64<<10)
	switch {
	case st == harness.StrNull:
		c.f.warn("last-error", "null:"+call, "NULL after %s failed: Falco reports the failure without a reason", call)
	case st != harness.StrOK:
		c.f.fail("last-error", "bad:"+call, "after %s failed, plugin_get_last_error returns a string that is %s: Falco copies it and crashes", call, st)
	case msg == "":
		c.f.warn("last-error", "empty:"+call, "empty after %s failed: Falco reports the failure without a reason", call)
	default:
		if len(c.lastErrs) < 4 {
			c.f.note("last-error", "after %s: %s", call, oneLine(msg, 120))
		}
		c.lastErrs = append(c.lastErrs, lastErrObs{call, msg})
	}
	return msg
}

type lastErrObs struct{ call, msg string }

// initConfig is HARNESS_INIT, or the defaults of the init schema (what a
// user who sets nothing but the defaults gives), "{}" for a schema without
// defaults (Falco turns an empty config into "{}" when there is a schema)
// and "" without a schema.
func (c *child) initConfig() string {
	if c.opts.InitConfig != nil {
		return *c.opts.InitConfig
	}
	if c.m.schema != nil {
		props, _ := c.m.schema["properties"].(map[string]any)
		defs := map[string]any{}
		for k, v := range props {
			if p, ok := v.(map[string]any); ok {
				if d, ok := p["default"]; ok {
					defs[k] = d
				}
			}
		}
		if len(defs) > 0 {
			b, err := json.Marshal(defs)
			if err == nil {
				return string(b)
			}
		}
		return "{}"
	}
	if c.m.schemaType == 1 {
		return "{}"
	}
	return ""
}

func (c *child) behaviour() {
	cfg := c.initConfig()
	c.initCfg = cfg
	c.send(message{Init: &cfg})

	c.phase("init")
	if c.faulted["init"] {
		c.skipRest("plugin_init crashed or hung (see init)")
		return
	}
	c.crumb("init", "", "plugin_init("+quote(cfg)+")", "")
	s, rc := c.p.InitRaw(cfg)
	switch rc {
	case harness.Success:
		c.f.note("init", "init(%s) ok", quote(cfg))
	case harness.RCUnset:
		c.f.fail("init", "rc", "plugin_init(%s) left rc unset: Falco reads an uninitialized rc", quote(cfg))
	case harness.Failure:
		msg := "(NULL state: no last error)"
		if s != 0 {
			msg = c.lastErr(s, "plugin_init")
		}
		c.f.fail("init", "failed", "plugin_init(%s) failed: %s (Falco exits: \"could not initialize plugin\"; set HARNESS_INIT)", quote(cfg), msg)
	default:
		c.f.fail("init", "rc", "plugin_init(%s) returned rc %d, neither SUCCESS nor FAILURE", quote(cfg), rc)
	}
	if rc != harness.Success && s != 0 {
		c.crumb("init", "", "plugin_destroy after a failed init", "")
		c.p.Destroy(s)
	}
	c.report("init")
	c.otherConfigs(cfg)
	if rc != harness.Success {
		c.skipRest("plugin_init failed (see init)")
		return
	}
	c.state = s
	c.metricsSnapshot("after init")
	c.openParams()
	c.open()
	switch {
	case !c.m.sourcing:
		c.skip("no event sourcing capability", loopChecks...)
	case !c.opened:
		c.skip("plugin_open failed (see open)", loopChecks...)
	case c.batchFaulted() != "":
		c.skip("plugin_next_batch crashed or hung (see "+c.batchFaulted()+")", loopChecks...)
	default:
		c.loopPhase()
	}
	c.closeMain()
	c.extractPhase()
	c.metricsPhase()
	c.lifecyclePhase()
	c.phase("last-error")
	if c.want("last-error") && len(c.lastErrs) == 0 && c.f.status("last-error") == Pass {
		c.f.note("last-error", "no call failed: nothing to read")
	}
	c.report("last-error")
}

func (c *child) otherConfigs(used string) {
	const id = "init.other-configs"
	if !c.want(id) {
		return
	}
	c.phase(id)
	configs := []string{"{}"}
	if c.m.schema == nil && c.m.schemaType != 1 {
		configs = []string{"", "\x01conformance: this is not a config {"}
	}
	ran := 0
	for _, cfg := range configs {
		if cfg == used {
			continue
		}
		ran++
		c.crumb(id, "", "plugin_init("+quote(cfg)+")", "")
		s, rc := c.p.InitRaw(cfg)
		switch rc {
		case harness.Success:
			c.f.note(id, "init(%s) accepted", quote(cfg))
		case harness.Failure:
			msg := "(NULL state)"
			if s != 0 {
				msg = c.lastErr(s, "plugin_init("+quote(cfg)+")")
			}
			c.f.note(id, "init(%s) refused: %s", quote(cfg), oneLine(msg, 100))
		default:
			c.f.note(id, "init(%s) rc %s (see init)", quote(cfg), rcName(rc))
		}
		if s != 0 {
			c.crumb(id, "", "plugin_destroy after plugin_init("+quote(cfg)+")", "")
			c.p.Destroy(s)
		}
	}
	if ran == 0 {
		c.f.note(id, "the only config Falco would pass by default is the one init used")
	}
	c.report(id)
}

func (c *child) openParams() {
	const id = "open-params.list"
	if !c.want(id) {
		return
	}
	c.phase(id)
	switch {
	case !c.m.sourcing:
		c.skip("no event sourcing capability", id)
		return
	case !c.m.syms["list_open_params"]:
		c.skip("plugin_list_open_params not exported (optional)", id)
		return
	}
	c.crumb(id, "", "plugin_list_open_params", "")
	ptr, rc := c.p.ListOpenParamsPtr(c.state)
	switch rc {
	case harness.Success:
	case harness.RCUnset:
		c.f.fail(id, "rc", "rc left unset: Falco reads an uninitialized rc")
		c.report(id)
		return
	case harness.Failure:
		msg := c.lastErr(c.state, "plugin_list_open_params")
		c.f.warn(id, "failed", "failed: %s (Falco throws \"list_open_params has error\")", oneLine(msg, 100))
		c.report(id)
		return
	default:
		c.f.fail(id, "rc", "rc %d, neither SUCCESS nor FAILURE", rc)
		c.report(id)
		return
	}
	s, st := harness.SafeCString(ptr, 1<<20)
	switch {
	case st == harness.StrNull || (st == harness.StrOK && s == ""):
		c.f.note(id, "no suggested open params")
	case st != harness.StrOK:
		c.f.fail(id, "ptr", "returns a string that is %s: Falco copies it and crashes", st)
	default:
		var list []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			c.f.fail(id, "json", "%s is not a JSON array of objects (\"list_open_params returned a non-array JSON\")", quote(s))
			break
		}
		var vals []string
		for k, e := range list {
			var v string
			if json.Unmarshal(e["value"], &v) != nil || v == "" {
				c.f.fail(id, "value", "entry %d has no string \"value\" (\"list_open_params has entry with no value\")", k)
				continue
			}
			for _, key := range []string{"desc", "separator"} {
				var x string
				if raw, ok := e[key]; ok && string(raw) != "null" && json.Unmarshal(raw, &x) != nil {
					c.f.fail(id, key, "entry %d: %s is %s, not a string", k, key, raw)
				}
			}
			vals = append(vals, quote(v))
		}
		c.f.note(id, "%d suggested: %s", len(vals), listSome(vals, 6))
	}
	c.report(id)
}

func (c *child) open() {
	c.phase("open.bad-params", "open")
	if !c.m.sourcing {
		c.skip("no event sourcing capability", "open.bad-params", "open")
		return
	}
	const bad = "open.bad-params"
	if c.want(bad) {
		c.crumb(bad, "", "plugin_open("+quote(badOpenParams)+")", "")
		i, rc := c.p.OpenRaw(c.state, badOpenParams)
		switch rc {
		case harness.Failure:
			msg := c.lastErr(c.state, "plugin_open("+quote(badOpenParams)+")")
			c.f.note(bad, "open(%s) refused: %s", quote(badOpenParams), oneLine(msg, 100))
		case harness.Success:
			c.f.note(bad, "open(%s) accepted", quote(badOpenParams))
		default:
			c.f.note(bad, "open(%s) rc %s", quote(badOpenParams), rcName(rc))
		}
		// scap_open's failure path: scap_close, which closes whatever open
		// returned, NULL included.
		c.crumb(bad, "", fmt.Sprintf("plugin_close(state, %#x) after plugin_open returned %s", uintptr(i), rcName(rc)), "")
		c.p.Close(c.state, i)
		c.f.note(bad, "then plugin_close(state, %#x) as scap_close does", uintptr(i))
		c.report(bad)
	}
	params := c.openParamsValue()
	if c.faulted["open"] {
		c.f.fail("open", "crash", "plugin_open crashed or hung before")
		return
	}
	c.crumb("open", "", "plugin_open("+quote(params)+")", "")
	i, rc := c.p.OpenRaw(c.state, params)
	switch rc {
	case harness.Success:
		c.f.note("open", "open(%s) ok", quote(params))
		c.inst, c.opened = i, true
	case harness.RCUnset:
		c.f.fail("open", "rc", "plugin_open(%s) left rc unset: libscap reads an uninitialized rc", quote(params))
	case harness.Failure:
		msg := c.lastErr(c.state, "plugin_open("+quote(params)+")")
		c.f.fail("open", "failed", "plugin_open(%s) failed: %s (set HARNESS_OPEN)", quote(params), oneLine(msg, 200))
	default:
		c.f.fail("open", "rc", "plugin_open(%s) returned rc %d", quote(params), rc)
	}
	if !c.opened {
		c.crumb("open", "", "plugin_close after a failed plugin_open", "")
		c.p.Close(c.state, i)
	}
	c.report("open")
	if c.opened {
		c.metricsSnapshot("after open")
	}
}

// metric is one decoded ss_plugin_metric.
type metric struct {
	name      string
	monotonic bool
	value     string
}

// metricsSnapshot calls get_metrics for the metrics check.
func (c *child) metricsSnapshot(when string) {
	if !c.m.syms["get_metrics"] || !c.want("metrics") {
		return
	}
	c.crumb("metrics", "", "plugin_get_metrics ("+when+")", "")
	ms := c.readMetrics(c.f, "metrics", when)
	c.metrics = append(c.metrics, ms)
}

// readMetrics calls plugin_get_metrics and checks what it returns; findings
// go to check id of f.
func (c *child) readMetrics(f *findings, id, when string) []metric {
	arr, n := c.p.MetricsPtr(c.state)
	if n == 0 {
		return nil
	}
	if n > 1<<16 {
		f.fail(id, "n", "%s: num_metrics %d", when, n)
		return nil
	}
	if arr == 0 {
		f.fail(id, "null", "%s: num_metrics %d with a NULL array: Falco reads it and crashes", when, n)
		return nil
	}
	b := harness.SafeRead(arr, int(n)*harness.MetricSize)
	if len(b) < int(n)*harness.MetricSize {
		f.fail(id, "array", "%s: the array of %d metrics is not readable: Falco reads it and crashes", when, n)
		return nil
	}
	var out []metric
	seen := map[string]bool{}
	for k := 0; k < int(n); k++ {
		e := b[k*harness.MetricSize:]
		name, st := harness.SafeCString(harness.Ptr(binary.LittleEndian.Uint64(e[0:])), 4096)
		typ := binary.LittleEndian.Uint32(e[8:])
		raw := binary.LittleEndian.Uint64(e[16:])
		vt := binary.LittleEndian.Uint32(e[24:])
		switch {
		case st != harness.StrOK:
			f.fail(id, "name", "metric %d: the name is %s: Falco formats it with %%s and crashes", k, st)
			continue
		case name == "":
			f.warn(id, "empty", "metric %d has an empty name", k)
		case !promMetricRe.MatchString(name):
			f.warn(id, "prom:"+name, "metric %q: not a valid Prometheus name (Falco exports falcosecurity_plugins_<plugin>_<name>)", name)
		}
		if seen[name] {
			f.warn(id, "dup:"+name, "metric %q appears twice", name)
		}
		seen[name] = true
		if typ > 1 {
			f.fail(id, "type:"+name, "metric %q: type %d, neither MONOTONIC (0) nor NON_MONOTONIC (1)", name, typ)
		}
		var val string
		switch vt {
		case 0:
			val = strconv.FormatUint(uint64(uint32(raw)), 10)
		case 1:
			val = strconv.FormatInt(int64(int32(uint32(raw))), 10)
		case 2:
			val = strconv.FormatUint(raw, 10)
		case 3:
			val = strconv.FormatInt(int64(raw), 10)
		case 4:
			val = strconv.FormatFloat(math.Float64frombits(raw), 'g', -1, 64)
		case 5:
			val = strconv.FormatFloat(float64(math.Float32frombits(uint32(raw))), 'g', -1, 32)
		case 6:
			val = strconv.FormatInt(int64(int32(uint32(raw))), 10)
		default:
			f.fail(id, "vt:"+name, "metric %q: value type %d is none of the 7 the API defines", name, vt)
		}
		out = append(out, metric{name, typ == 0, val})
	}
	return out
}

// infoEvents summarizes the loop (reported with it).
func (c *child) infoEvents() {
	const id = "info.events"
	l := &c.loop
	if l.calls == 0 {
		c.f.info(id, "no next_batch loop ran")
	} else {
		var rcs []string
		keys := make([]int, 0, len(l.rcs))
		for rc := range l.rcs {
			keys = append(keys, int(rc))
		}
		sort.Ints(keys)
		for _, rc := range keys {
			rcs = append(rcs, fmt.Sprintf("%s %d", rcName(int32(rc)), l.rcs[int32(rc)]))
		}
		c.f.info(id, "%d events in %d next_batch calls (%s); stopped: %s", l.events, l.calls, strings.Join(rcs, ", "), l.stop)
		c.f.info(id, "longest call %v", l.maxDur.Round(10000))
	}
	if len(c.m.fields) > 0 && l.extracted > 0 {
		var never []string
		for _, fl := range c.m.fields {
			if !l.valued[fl.ID] {
				never = append(never, fl.Name)
			}
		}
		c.f.info(id, "%d of %d fields had a value on at least one of %d events", len(c.m.fields)-len(never), len(c.m.fields), l.extracted)
		if len(never) > 0 {
			c.f.info(id, "never a value: %s", listSome(never, 10))
		}
	}
	if l.evtStr != "" {
		c.f.info(id, "event_to_string: %s", oneLine(l.evtStr, 120))
	}
	if n := harness.RawLogCount(); n > 0 {
		c.f.info(id, "%d messages through log_fn so far", n)
	}
}
