package conformance

import (
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/falco-docker/docker-plugin/tests/harness"
)

// pluginEventType is PPME_PLUGINEVENT_E; a plugin event's payload starts at
// PLUGIN_EVENT_PAYLOAD_OFFSET.
const (
	pluginEventType = 322
	payloadOffset   = harness.PayloadOffset
	// Largest event the suite reads (bigger ones are reported, not read).
	maxEventLen = 64 << 20
	// Well-formed events kept (payload copies) for the hostile phase.
	keepEvents = 8
)

// loopStats is what the next_batch loop saw.
type loopStats struct {
	calls, events int
	rcs           map[int32]int
	stop          string
	eof           bool
	maxDur        time.Duration
	timeouts      []time.Duration
	lastPct       int64
	extracted     int             // events extraction ran on
	valued        map[uint32]bool // field ids that had a value
	evtStr        string
	evtStrNull    int
	evtStrs       int
	plugEvents    int            // plugin events checked
	extractCalls  map[string]int // plugin_extract_fields calls per check
	kept          [][]byte       // payloads of well-formed events
	evtnum        uint64
}

func u16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func u32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func u64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// loopPhase drives next_batch as Falco's event loop does: each batch's
// events are checked, written in place as libscap writes them, extracted
// field by field and formatted before the next call.
func (c *child) loopPhase() {
	c.phase(loopChecks...)
	wanted := false
	for _, id := range loopChecks {
		wanted = wanted || c.want(id)
	}
	if !wanted {
		c.closeMain()
		return
	}
	l := &c.loop
	src := harness.NewCString(c.evtSource())
	defer src.Free()
	deadline := time.Now().Add(c.opts.LoopTime)
	l.stop = "time bound"
loop:
	for {
		switch {
		case l.calls >= c.opts.MaxCalls:
			l.stop = fmt.Sprintf("%d calls", l.calls)
			break loop
		case l.events >= c.opts.MaxEvents:
			l.stop = fmt.Sprintf("%d events", l.events)
			break loop
		case time.Now().After(deadline):
			l.stop = fmt.Sprintf("time bound %v", c.opts.LoopTime)
			break loop
		}
		rc, evts, ok := c.nextBatch("next-batch.contract", "plugin_next_batch", true)
		if !ok {
			l.stop = "next_batch " + rcName(rc)
			break
		}
		for _, e := range evts {
			c.event(e, src)
		}
		c.progress()
		if rc == harness.EOF {
			l.eof = true
			l.stop = "EOF"
			c.stickyEOF()
			break
		}
	}
	c.loopVerdicts()
	c.infoEvents()
	c.report(loopChecks...)
	c.closeMain()
}

// closeMain closes the main instance: the first of the open/close cycles
// (not made again when that check faulted).
func (c *child) closeMain() {
	if c.opened && !c.faulted["lifecycle.open-close"] {
		c.crumb("lifecycle.open-close", "", "plugin_close (main instance)", "")
		c.p.Close(c.state, c.inst)
	}
	c.opened = false
}

// nextBatch calls next_batch once and checks its outputs; ok is false when
// the source has ended for Falco (FAILURE, an unknown rc, unusable
// outputs). check is where a crash is charged; a hang goes to
// next-batch.blocking. main says whether durations count for
// next-batch.blocking and the loop statistics.
func (c *child) nextBatch(check, call string, main bool) (int32, []harness.Ptr, bool) {
	const id = "next-batch.contract"
	l := &c.loop
	c.crumb(check, "next-batch.blocking", call, "")
	t0 := time.Now()
	rc, n, arr := c.p.NextBatchPtr(c.state, c.inst)
	d := time.Since(t0)
	if !main {
		return rc, nil, rc != harness.Failure
	}
	l.calls++
	l.rcs[rc]++
	if d > l.maxDur {
		l.maxDur = d
	}
	if d > c.opts.CallBound {
		c.f.fail("next-batch.blocking", "slow", "call %d took %v (bound %v; rc %s): Falco's event loop and its shutdown wait for it", l.calls, d.Round(time.Millisecond), c.opts.CallBound, rcName(rc))
	}
	if rc == harness.Timeout {
		l.timeouts = append(l.timeouts, d)
	}
	switch rc {
	case harness.Success, harness.Timeout, harness.EOF, harness.Failure:
	default:
		c.f.fail(id, "rc", "call %d returned rc %s: libscap maps it to a failure and the source ends", l.calls, rcName(rc))
		return rc, nil, false
	}
	if n == harness.NEvtsUnset {
		c.f.fail(id, "nevts", "call %d (rc %s) left nevts unset: libscap keeps the previous batch's count and delivers its events again", l.calls, rcName(rc))
		n = 0
	}
	if rc == harness.Failure {
		msg := c.lastErr(c.state, "plugin_next_batch")
		c.f.fail(id, "failure", "call %d failed: %s (the source ends with this error)", l.calls, oneLine(msg, 150))
		return rc, nil, false
	}
	if rc == harness.Success && n == 0 {
		c.f.fail(id, "empty", "call %d returned SUCCESS with 0 events: libscap fails (\"unexpected 0 size event returned by plugin\")", l.calls)
	}
	if n == 0 {
		return rc, nil, true
	}
	if n > 1<<20 {
		c.f.fail(id, "huge", "call %d: nevts %d", l.calls, n)
		return rc, nil, false
	}
	switch arr {
	case 0:
		c.f.fail(id, "null", "call %d: %d events and a NULL array: libscap reads it and crashes", l.calls, n)
		return rc, nil, false
	case harness.PtrUnset:
		c.f.fail(id, "unset", "call %d: %d events and the array pointer left unset", l.calls, n)
		return rc, nil, false
	}
	b := harness.SafeRead(arr, int(n)*8)
	if len(b) < int(n)*8 {
		c.f.fail(id, "array", "call %d: the array of %d event pointers is not readable: libscap reads it and crashes", l.calls, n)
		return rc, nil, false
	}
	out := make([]harness.Ptr, n)
	for k := range out {
		out[k] = harness.Ptr(u64(b[8*k:]))
	}
	return rc, out, true
}

// evtSource is the source name Falco gives this plugin's events.
func (c *child) evtSource() string {
	if c.m.id == 0 {
		return "syscall"
	}
	return c.m.source
}

// event checks one batch event and, when it is well formed, does what Falco
// does with it: in-place writes, extraction, formatting.
func (c *child) event(e harness.Ptr, src harness.CString) {
	l := &c.loop
	l.events++
	if e == 0 {
		c.f.fail("next-batch.contract", "nullevt", "a NULL event pointer in the batch: libscap reads it and crashes")
		return
	}
	hdr := harness.SafeRead(e, harness.EventHeaderSize)
	if len(hdr) < harness.EventHeaderSize {
		c.f.fail("next-batch.contract", "badevt", "an event pointer to unreadable memory (%#x): libscap reads it and crashes", uintptr(e))
		return
	}
	ts, evLen, typ, nparams := u64(hdr[0:]), u32(hdr[16:]), u16(hdr[20:]), u32(hdr[22:])
	good := true
	if c.m.id != 0 && (typ != pluginEventType || nparams != 2) {
		c.f.fail("events.type", fmt.Sprintf("%d/%d", typ, nparams), "event of type %d with %d parameters from a plugin with an id: libscap refuses it (\"malformed plugin event produced by plugin\"; want type 322, 2 parameters)", typ, nparams)
		good = false
	}
	if typ != pluginEventType {
		// An id-less plugin may produce any scap event; the suite cannot
		// check their parameters, only that they are readable.
		if good && len(harness.SafeRead(e, int(min(evLen, maxEventLen)))) < int(min(evLen, maxEventLen)) {
			c.f.fail("events.length", "readable", "len %d but the event is not readable that far", evLen)
		}
		return
	}
	var full []byte
	switch {
	case evLen < payloadOffset:
		c.f.fail("events.length", "short", "len %d: shorter than a plugin event's header and parameters (%d bytes)", evLen, payloadOffset)
		return
	case evLen > maxEventLen:
		c.f.fail("events.length", "huge", "len %d: more than %d MiB", evLen, maxEventLen>>20)
		return
	default:
		full = harness.SafeRead(e, int(evLen))
		if len(full) < int(evLen) {
			c.f.fail("events.length", "readable", "len %d but only %d bytes are readable: Falco reads (and copies into captures) len bytes", evLen, len(full))
			return
		}
	}
	l.plugEvents++
	l0, l1, pid := u32(full[26:]), u32(full[30:]), u32(full[34:])
	if l0 != 4 {
		c.f.fail("events.length", "l0", "the plugin id parameter's length is %d, want 4", l0)
		good = false
	}
	if uint64(payloadOffset)+uint64(l1) > uint64(evLen) {
		c.f.fail("events.length", "l1", "payload length %d does not fit in len %d: Falco reads past the event", l1, evLen)
		good = false
	} else if payloadOffset+l1 < evLen {
		c.f.warn("events.length", "trailing", "len %d but header, parameters and payload take %d bytes", evLen, payloadOffset+l1)
	}
	switch {
	case c.m.id != 0 && pid != 0 && pid != c.m.id:
		c.f.fail("events.plugin-id", "other", "plugin id parameter %d, the plugin's id is %d: libscap fails (\"unexpected plugin ID in plugin event\")", pid, c.m.id)
		good = false
	case c.m.id == 0 && pid == 0:
		c.f.fail("events.plugin-id", "zero", "a plugin event with plugin id 0 from a plugin without an id: libscap fails (\"malformed plugin event produced by plugin (no ID)\")")
		good = false
	}
	switch ts {
	case 0:
		c.f.warn("events.timestamp", "zero", "timestamp 0 (1970-01-01)")
	case ^uint64(0):
		c.f.note("events.timestamp", "timestamp UINT64_MAX: Falco stamps the event when it reads it")
	}
	if !good {
		return
	}
	if c.want("events.writable") {
		c.crumb("events.writable", "", "in-place write of tid/plugin id/ts into the batch event (as libscap's source_plugin.c next() does)", "")
		harness.FixupEvent(e, c.m.id, true, pid == 0)
	}
	l.evtnum++
	payload := full[payloadOffset : payloadOffset+l1]
	if len(l.kept) < keepEvents {
		l.kept = append(l.kept, append([]byte(nil), payload...))
	}
	if c.m.extraction {
		l.extracted++
		c.extractEvent(e, l.evtnum, src, evLen)
	}
	c.eventToString("event-to-string", e, l.evtnum, src)
}

// eventToString calls plugin_event_to_string on an event (check: where a
// crash or a bad string is reported).
func (c *child) eventToString(id string, e harness.Ptr, num uint64, src harness.CString) {
	if !c.m.syms["event_to_string"] || c.m.id == 0 || !c.want(id) {
		return
	}
	c.crumb(id, "", fmt.Sprintf("plugin_event_to_string(event %d)", num), "")
	p := c.p.EventToStringPtr(c.state, e, num, src)
	if id == "event-to-string" {
		c.loop.evtStrs++
	}
	s, st := harness.SafeCString(p, 1<<20)
	switch {
	case st == harness.StrNull:
		c.loop.evtStrNull++
	case st != harness.StrOK:
		if id == "event-to-string" || c.f.status("event-to-string") != Fail {
			c.f.fail(id, "evtstr", "plugin_event_to_string returns %#x, a string that is %s: Falco copies it and crashes", uintptr(p), st)
		}
	case c.loop.evtStr == "":
		c.loop.evtStr = s
	}
}

// progress checks plugin_get_progress after each next_batch.
func (c *child) progress() {
	const id = "progress"
	if !c.m.syms["get_progress"] || !c.want(id) {
		return
	}
	c.crumb(id, "", "plugin_get_progress", "")
	pct, p := c.p.ProgressPtr(c.state, c.inst)
	switch {
	case pct == harness.PctUnset:
		c.f.fail(id, "unset", "progress_pct left unset: Falco prints whatever was in its variable")
	case pct > 10000:
		c.f.fail(id, "range", "progress_pct %d: beyond 10000 (100.00%%)", pct)
	case int64(pct) < c.loop.lastPct:
		c.f.warn(id, "back", "progress went back from %d to %d", c.loop.lastPct, pct)
	}
	if pct != harness.PctUnset {
		c.loop.lastPct = int64(pct)
	}
	if _, st := harness.SafeCString(p, 64<<10); st != harness.StrOK && st != harness.StrNull {
		c.f.fail(id, "str", "the progress string is %s (%#x)", st, uintptr(p))
	}
}

// stickyEOF calls next_batch three more times after EOF.
func (c *child) stickyEOF() {
	const id = "next-batch.eof"
	for k := 1; k <= 3; k++ {
		c.crumb("next-batch.contract", "next-batch.blocking", fmt.Sprintf("plugin_next_batch (call %d after EOF)", k), "")
		rc, n, _ := c.p.NextBatchPtr(c.state, c.inst)
		if n == harness.NEvtsUnset {
			n = 0 // next-batch.contract's business, checked on the loop's calls
		}
		if rc != harness.EOF || n != 0 {
			c.f.fail(id, "sticky", "call %d after EOF returned %s with %d events: after EOF every call must return EOF and no event", k, rcName(rc), n)
			return
		}
	}
	c.f.note(id, "EOF, then EOF with no event on 3 more calls")
}

// loopVerdicts turns the loop's statistics into findings.
func (c *child) loopVerdicts() {
	l := &c.loop
	if !l.eof {
		c.skip(fmt.Sprintf("no EOF within the loop (%s): a live source never ends", l.stop), "next-batch.eof")
	}
	c.f.note("next-batch.contract", "%d calls, %d events (stopped: %s)", l.calls, l.events, l.stop)
	c.f.note("next-batch.blocking", "longest call %v (bound %v)", l.maxDur.Round(10*time.Microsecond), c.opts.CallBound)
	if len(l.timeouts) >= 20 {
		sort.Slice(l.timeouts, func(i, j int) bool { return l.timeouts[i] < l.timeouts[j] })
		med := l.timeouts[len(l.timeouts)/2]
		switch {
		case med > 50*time.Millisecond:
			c.f.warn("next-batch.blocking", "slow-timeout", "TIMEOUT answered after %v (median of %d): Falco's loop stalls that long per call; best practice: a few milliseconds", med.Round(time.Millisecond), len(l.timeouts))
		case med < 10*time.Microsecond && len(l.timeouts) >= 100:
			c.f.warn("next-batch.blocking", "spin", "TIMEOUT answered after %v (median of %d): Falco calls again at once and spins a core", med, len(l.timeouts))
		default:
			c.f.note("next-batch.blocking", "TIMEOUT answered after %v (median of %d)", med.Round(10*time.Microsecond), len(l.timeouts))
		}
	}
	if l.events == 0 {
		c.skip("no event produced within the loop ("+l.stop+")", "events.type", "events.plugin-id", "events.length",
			"events.timestamp", "events.writable", "extract.values", "extract.args", "event-to-string")
	} else {
		c.f.note("events.type", "%d events checked", l.events)
		c.f.note("events.plugin-id", "%d plugin events checked", l.plugEvents)
		c.f.note("events.length", "%d plugin events checked", l.plugEvents)
		c.f.note("events.timestamp", "%d plugin events checked", l.plugEvents)
		c.f.note("events.writable", "%d well-formed events written in place", l.evtnum)
		c.f.note("extract.values", "%d fields on %d events: %d calls", len(c.m.fields), l.extracted, l.extractCalls["extract.values"])
		c.f.note("extract.args", "%d calls with arguments a rule can give", l.extractCalls["extract.args"])
		if l.evtStrs > 0 {
			c.f.note("event-to-string", "%d events formatted", l.evtStrs)
		}
	}
	if l.extracted == 0 && c.m.extraction {
		c.skip("no well-formed event to extract from", "extract.values", "extract.args")
	}
	if !c.m.extraction {
		c.skip("no field extraction capability (or fields refused)", "extract.values", "extract.args")
	}
	if !c.m.syms["event_to_string"] {
		c.skip("plugin_event_to_string not exported (optional): Falco prints the payload", "event-to-string")
	} else if l.evtStrNull > 0 {
		c.f.note("event-to-string", "NULL for %d events: Falco prints datalen/data instead", l.evtStrNull)
	}
	if !c.m.syms["get_progress"] {
		c.skip("plugin_get_progress not exported (optional)", "progress")
	} else if l.lastPct >= 0 {
		c.f.note("progress", "last progress %d.%02d%%", l.lastPct/100, l.lastPct%100)
	}
}
