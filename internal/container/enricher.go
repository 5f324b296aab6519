package container

import (
	"container/list"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/metrics"
)

// Config bounds an Enricher.
type Config struct {
	// Timeout bounds one inspection call, and how long an event waits for
	// its container's context (the events behind it wait too: order is
	// kept) before it is delivered without.
	Timeout time.Duration
	// Concurrency is the number of inspection calls in flight at most.
	Concurrency int
	// CacheSize bounds the containers whose context is kept.
	CacheSize int
	// MaxEventSize: an enriched payload larger than this is delivered as
	// the daemon sent it (the plugin never delivers a larger event).
	MaxEventSize int
	// MaxPending bounds the events waiting for a context; beyond it the
	// oldest is delivered without its context (never dropped).
	MaxPending int
}

// maxPendingBytes bounds the payload bytes of the events waiting for a
// context (beside MaxPending): beyond it too, the oldest goes without.
const maxPendingBytes = 16 << 20

// maxExecCandidates bounds the exec sessions looked up for one of Podman's
// exec events: beyond it, which one the event is about cannot be told anyway.
const maxExecCandidates = 8

// Logger is what the Enricher logs through.
type Logger interface {
	Warnf(format string, args ...any)
	Debugf(format string, args ...any)
}

// Deliver receives each event, in the daemon's order, with its context
// when there is one; the payload is valid during the call only.
type Deliver func(payload []byte, ts uint64)

// Enricher adds the security context of their container to a live
// source's events. The reader hands it every event (Add), which never
// waits for an inspection: events go to Deliver in the order they came,
// each as soon as its container's context is known, failed, or took longer
// than Config.Timeout. Inspections run on Config.Concurrency workers.
//
// A container is inspected once: at the first event that names it (its
// create, normally), or when the plugin (re)connects and lists the
// containers that exist (Resync); the context is kept in a bounded LRU cache
// until the container is destroyed. Events of a container whose inspection
// fails (gone already: docker run --rm of an instant command) are delivered
// without the context and counted, never dropped.
type Enricher struct {
	cfg     Config
	c       *metrics.Counters
	log     Logger
	deliver Deliver

	insp     atomic.Pointer[inspectorBox]
	hi       chan *job // inspections events wait for
	lo       chan *job // inspections of the containers found at connection
	ctx      context.Context
	cancel   context.CancelFunc
	workers  sync.WaitGroup
	syncs    sync.WaitGroup // running resyncs
	resyncMu sync.Mutex
	stopSync context.CancelFunc // the running Resync's

	parsed event.Event // Add's (the reader's) own

	mu        sync.Mutex
	closed    bool
	cache     map[string]*entry
	lru       list.List // of *entry, most recently used first
	ring      []pending
	head, n   int
	pendBytes int
	free      [][]byte // payload buffers of delivered events, for reuse
	timer     *time.Timer
	timerAt   time.Time // when the timer fires; zero when it is stopped
	member    []byte    // scratch: the member's value
	out       []byte    // scratch: the enriched payload
	// syncing counts the resyncs started and not finished; while any is,
	// destroyed remembers the containers destroyed since, so that a list
	// answered before a destroy and applied after it does not bring the
	// container back into the cache (one wasted inspection and a slot).
	syncing   int
	destroyed map[string]struct{}
	gen       uint64 // entries cached so far: a resync forgets only those cached before its list
}

// maxTombstones bounds destroyed: past it, a container destroyed during a
// resync may be inspected once more (and found gone), nothing worse.
const maxTombstones = 4096

type inspectorBox struct{ Inspector }

type entryState uint8

const (
	inspecting entryState = iota // a job is queued or running
	ready                        // ctx holds the context
	failed                       // no context; inspected again after retryAt (never when zero)
)

// entry is one container of the cache. Guarded by Enricher.mu.
type entry struct {
	id      string
	state   entryState
	started bool   // a worker took its job (a later event needs no faster one)
	timeout bool   // failed: the call did not answer within the timeout
	hurried bool   // a job was queued where events wait (hi)
	ctx     []byte // the member's object, open (event.AppendContext)
	retryAt time.Time
	elem    *list.Element
	gen     uint64 // Enricher.gen when it was cached

	// execSeen: Podman's exec sessions already told to an exec event.
	execSeen map[string]bool
}

// execLookup is what was found for one of Podman's exec events (which say
// neither the command nor the exec id): the container's exec sessions and
// the command of those not yet told to an earlier exec event.
type execLookup struct {
	done     bool
	sessions []string
	cmds     map[string]string
}

type job struct {
	ent  *entry
	exec *execLookup // nil: inspect the container
}

// pending is an event not delivered yet.
type pending struct {
	buf      []byte
	ts       uint64
	ent      *entry      // its container; nil when it names none
	exec     *execLookup // Podman's exec: its command, looked up
	deadline time.Time
	named    bool // it names a container (counted with or without context)
	destroy  bool // the container's destroy: drop it from the cache after
}

// New returns an Enricher that calls deliver, and starts its workers.
func New(cfg Config, counters *metrics.Counters, log Logger, deliver Deliver) *Enricher {
	cfg.Concurrency = max(cfg.Concurrency, 1)
	cfg.CacheSize = max(cfg.CacheSize, 1)
	cfg.MaxPending = max(cfg.MaxPending, 1)
	e := &Enricher{
		cfg: cfg, c: counters, log: log, deliver: deliver,
		hi:    make(chan *job, cfg.MaxPending),
		lo:    make(chan *job),
		cache: map[string]*entry{},
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.timer = time.AfterFunc(time.Hour, e.onTimer)
	e.timer.Stop()
	for range cfg.Concurrency {
		e.workers.Add(1)
		go e.worker()
	}
	return e
}

// SetInspector makes in the inspector of later calls (the live source
// builds one per connection, for the API version it negotiated).
func (e *Enricher) SetInspector(in Inspector) {
	old := e.insp.Swap(&inspectorBox{in})
	if old != nil {
		if c, ok := old.Inspector.(interface{ Close() error }); ok {
			c.Close() // idle connections only: calls in flight finish
		}
	}
}

func (e *Enricher) inspector() Inspector {
	if b := e.insp.Load(); b != nil {
		return b.Inspector
	}
	return nil
}

// Add takes one event from the reader (line is reused by the caller after
// the call). It never waits for an inspection.
func (e *Enricher) Add(line []byte, ts uint64) {
	p := &e.parsed
	p.Parse(line)
	cid := p.ContainerID()
	name := p.ActionName()
	now := time.Now()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	var pe pending
	pe.ts = ts
	pe.deadline = now.Add(e.cfg.Timeout)
	if cid.OK {
		pe.named = true
		pe.destroy = p.Is("container") && name.S == "destroy"
		ent := e.cache[cid.S]
		if pe.destroy && e.syncing > 0 && len(e.destroyed) < maxTombstones {
			e.destroyed[strings.Clone(cid.S)] = struct{}{}
		}
		switch {
		case ent == nil && pe.destroy:
			// Destroyed before the plugin knew it: nothing to inspect.
		case ent == nil:
			ent = e.newEntry(cid.S)
			e.submit(ent, nil)
		case ent.state == failed && !ent.retryAt.IsZero() && !now.Before(ent.retryAt) && !pe.destroy:
			ent.state, ent.started, ent.hurried = inspecting, false, false
			e.submit(ent, nil)
		case ent.state == inspecting && !ent.started && !ent.hurried:
			// Queued behind the containers found at connection: this
			// event must not wait for all of them.
			e.submit(ent, nil)
		}
		if ent != nil {
			e.lru.MoveToFront(ent.elem)
			pe.ent = ent
			// Podman's exec names neither its command nor its exec id.
			if p.Dialect() == event.Podman && p.Is("container") && name.S == "exec_start" && !p.ActionArgs().OK {
				pe.exec = &execLookup{}
				e.submit(ent, pe.exec)
			}
		}
	}
	// Bounded: the oldest waiting event goes without its context rather
	// than any being dropped.
	for e.n > 0 && (e.n >= e.cfg.MaxPending || e.pendBytes+len(line) > maxPendingBytes) {
		e.pop()
	}
	pe.buf = append(e.buffer(), line...)
	e.push(pe)
	e.flush(now)
}

// newEntry caches a new entry for id, in state inspecting, evicting the
// least recently used entry beyond CacheSize.
func (e *Enricher) newEntry(id string) *entry {
	e.gen++
	ent := &entry{id: strings.Clone(id), state: inspecting, gen: e.gen} // id may alias a parse buffer
	ent.elem = e.lru.PushFront(ent)
	e.cache[ent.id] = ent
	for len(e.cache) > e.cfg.CacheSize && e.lru.Len() > 0 {
		e.drop(e.lru.Back().Value.(*entry))
	}
	e.c.CacheEntries.Add(1)
	return ent
}

func (e *Enricher) drop(ent *entry) {
	e.lru.Remove(ent.elem) // a no-op when it is not in the list any more
	if e.cache[ent.id] == ent {
		delete(e.cache, ent.id)
		e.c.CacheEntries.Add(^uint64(0))
	}
}

// submit queues an inspection where events wait (hi) without blocking:
// when the queue is full, the inspection fails at once (retried at a later
// event).
func (e *Enricher) submit(ent *entry, x *execLookup) {
	select {
	case e.hi <- &job{ent: ent, exec: x}:
		if x == nil {
			ent.hurried = true
		}
	default:
		if x != nil {
			x.done = true
			return
		}
		e.c.InspectErrors.Add(1)
		ent.state, ent.retryAt = failed, time.Now().Add(e.cfg.Timeout)
	}
}

// ---- the pending queue (a ring, in daemon order)

func (e *Enricher) push(p pending) {
	if e.n == len(e.ring) {
		grown := make([]pending, max(16, 2*len(e.ring)))
		for i := 0; i < e.n; i++ {
			grown[i] = e.ring[(e.head+i)%len(e.ring)]
		}
		e.ring, e.head = grown, 0
	}
	e.ring[(e.head+e.n)%len(e.ring)] = p
	e.n++
	e.pendBytes += len(p.buf)
}

// flush delivers the events at the head whose context is settled (or whose
// deadline passed), and arms the timer for the next deadline.
func (e *Enricher) flush(now time.Time) {
	for e.n > 0 {
		p := &e.ring[e.head]
		if !p.settled() && now.Before(p.deadline) {
			break
		}
		e.pop()
	}
	if e.n == 0 {
		if !e.timerAt.IsZero() {
			e.timer.Stop()
			e.timerAt = time.Time{}
		}
		return
	}
	if d := e.ring[e.head].deadline; !d.Equal(e.timerAt) {
		e.timer.Reset(d.Sub(now))
		e.timerAt = d
	}
}

func (e *Enricher) onTimer() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.timerAt = time.Time{}
	e.flush(time.Now())
}

// settled: nothing the event waits for is still being looked up.
func (p *pending) settled() bool {
	return (p.ent == nil || p.ent.state != inspecting) && (p.exec == nil || p.exec.done)
}

// pop delivers the head event: with its container's context when it is
// known; when it is not settled (its deadline passed, or the waiting room
// is full), without what it still waited for.
func (e *Enricher) pop() {
	p := e.ring[e.head]
	early := !p.settled()
	e.ring[e.head] = pending{}
	e.head = (e.head + 1) % len(e.ring)
	e.n--
	e.pendBytes -= len(p.buf)

	payload, enriched := p.buf, false
	if p.ent != nil && p.ent.state == ready {
		e.member = append(e.member[:0], p.ent.ctx...)
		if x, ok := e.attribute(p.ent, p.exec); ok {
			e.member = event.AppendExec(e.member, x)
		}
		e.member = event.CloseContext(e.member)
		if out, ok := event.InsertMember(e.out[:0], p.buf, event.ContainerMember, e.member); ok {
			e.out = out
			if len(out) <= e.cfg.MaxEventSize { // else as sent: never a larger event than allowed
				payload, enriched = out, true
			}
		}
	}
	if p.named {
		if enriched {
			e.c.ContextEvents.Add(1)
		} else {
			e.c.NoContextEvents.Add(1)
		}
		// Without what it waited for because that took too long: the
		// event's deadline passed first, or the call's own timeout did.
		if early || (!enriched && p.ent != nil && p.ent.state == failed && p.ent.timeout) {
			e.c.ContextTimeouts.Add(1)
		}
	}
	e.deliver(payload, p.ts)
	if p.destroy && p.ent != nil {
		e.drop(p.ent)
	}
	if cap(p.buf) <= 1<<20 && len(e.free) < 64 {
		e.free = append(e.free, p.buf[:0])
	}
}

func (e *Enricher) buffer() []byte {
	if k := len(e.free); k > 0 {
		b := e.free[k-1]
		e.free = e.free[:k-1]
		return b
	}
	return nil
}

// attribute tells which exec session one of Podman's exec events is
// about, in daemon order (events are attributed as they are delivered): the
// one session of the container not told to an earlier exec event; or, when
// several are new, their command if they all share it. Anything else is
// ambiguous, and the event gets no command: never a guess.
func (e *Enricher) attribute(ent *entry, x *execLookup) (event.Exec, bool) {
	if x == nil || !x.done || len(x.sessions) == 0 {
		return event.Exec{}, false
	}
	var fresh []string
	for _, id := range x.sessions {
		if !ent.execSeen[id] {
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 || len(fresh) > maxExecCandidates {
		return event.Exec{}, false
	}
	cmd, ok := x.cmds[fresh[0]]
	if !ok || cmd == "" {
		return event.Exec{}, false
	}
	for _, id := range fresh[1:] {
		if c, ok := x.cmds[id]; !ok || c != cmd {
			return event.Exec{}, false
		}
	}
	if ent.execSeen == nil || len(ent.execSeen) > 4*maxExecCandidates {
		// Podman removes finished sessions: keep only those it still lists.
		seen := map[string]bool{}
		for _, id := range x.sessions {
			if ent.execSeen[id] {
				seen[id] = true
			}
		}
		ent.execSeen = seen
	}
	ent.execSeen[fresh[0]] = true
	id := fresh[0]
	if len(fresh) > 1 {
		id = "" // one of several with the same command: which one is not known
	}
	return event.Exec{ID: id, Cmdline: cmd}, true
}

// ---- workers

func (e *Enricher) worker() {
	defer e.workers.Done()
	for {
		var j *job
		select {
		case j = <-e.hi:
		default:
			select {
			case j = <-e.hi:
			case j = <-e.lo:
			case <-e.ctx.Done():
				return
			}
		}
		if e.ctx.Err() != nil {
			return
		}
		if j.exec != nil {
			e.lookupExec(j.ent, j.exec)
		} else {
			e.inspect(j.ent)
		}
	}
}

func (e *Enricher) inspect(ent *entry) {
	e.mu.Lock()
	if ent.state != inspecting || ent.started {
		e.mu.Unlock() // another job did it
		return
	}
	ent.started = true
	e.mu.Unlock()

	var c event.Context
	var err error = errNoInspector
	if in := e.inspector(); in != nil {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
		c, err = in.Inspect(ctx, ent.id)
		cancel()
		e.c.Inspects.Add(1)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case err == nil:
		ent.ctx = event.AppendContext(ent.ctx[:0], &c)
		ent.state = ready
	case IsNotFound(err):
		e.c.InspectErrors.Add(1)
		ent.state, ent.retryAt, ent.timeout = failed, time.Time{}, false // gone: never again
		e.log.Debugf("container %s: gone before it could be inspected", short(ent.id))
	default:
		e.c.InspectErrors.Add(1)
		ent.state, ent.retryAt, ent.timeout = failed, time.Now().Add(e.cfg.Timeout), errors.Is(err, context.DeadlineExceeded)
		if e.ctx.Err() == nil {
			e.log.Debugf("container %s: inspect: %v", short(ent.id), err)
		}
	}
	if !e.closed {
		e.flush(time.Now())
	}
}

type inspectError string

func (s inspectError) Error() string { return string(s) }

const errNoInspector = inspectError("not connected")

// lookupExec lists the exec sessions of ent's container and the commands
// of those not told to an earlier exec event (each call bounded by the
// timeout); attribution happens in daemon order, at delivery (attribute).
func (e *Enricher) lookupExec(ent *entry, x *execLookup) {
	in := e.inspector()
	var sessions []string
	cmds := map[string]string{}
	if in != nil {
		ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
		ids, err := in.ExecSessions(ctx, ent.id)
		cancel()
		e.c.Inspects.Add(1)
		if err != nil {
			e.c.InspectErrors.Add(1)
		}
		e.mu.Lock()
		var fresh []string
		for _, id := range ids {
			if !ent.execSeen[id] {
				fresh = append(fresh, id)
			}
		}
		e.mu.Unlock()
		if err == nil && len(fresh) <= maxExecCandidates {
			sessions = ids
			for _, id := range fresh {
				ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Timeout)
				cmd, err := in.ExecCmdline(ctx, id)
				cancel()
				e.c.Inspects.Add(1)
				if err != nil {
					e.c.InspectErrors.Add(1)
					continue
				}
				cmds[id] = cmd
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x.sessions, x.cmds, x.done = sessions, cmds, true
	if !e.closed {
		e.flush(time.Now())
	}
}

// StartResync inspects, in a goroutine of its own, the containers that
// exist (at most CacheSize, newest first) and are not cached yet, and
// forgets cached ones that no longer exist (destroyed while the plugin was
// disconnected). The live source starts it after each (re)connection; a
// later one or Close ends it. Not concurrently with Close.
func (e *Enricher) StartResync() {
	e.mu.Lock()
	if e.syncing == 0 {
		e.destroyed = map[string]struct{}{}
	}
	e.syncing++
	e.mu.Unlock()
	e.syncs.Add(1)
	go func() {
		defer e.syncs.Done()
		defer func() {
			e.mu.Lock()
			if e.syncing--; e.syncing == 0 {
				e.destroyed = nil
			}
			e.mu.Unlock()
		}()
		e.resync()
	}()
}

func (e *Enricher) resync() {
	e.resyncMu.Lock()
	if e.stopSync != nil {
		e.stopSync()
	}
	ctx, stop := context.WithCancel(e.ctx)
	e.stopSync = stop
	e.resyncMu.Unlock()
	defer stop()

	in := e.inspector()
	if in == nil {
		return
	}
	e.mu.Lock()
	listed := e.gen // entries cached after this are newer than the list
	e.mu.Unlock()
	lctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	ids, err := in.List(lctx, e.cfg.CacheSize)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warnf("container context: listing the existing containers: %v; they are inspected at their next event", err)
		}
		return
	}
	present := make(map[string]bool, len(ids))
	for _, id := range ids {
		present[id] = true
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	for id, ent := range e.cache {
		if !present[id] && ent.state != inspecting && ent.gen <= listed {
			e.drop(ent)
		}
	}
	var todo []*entry
	for _, id := range ids {
		if _, gone := e.destroyed[id]; !gone && e.cache[id] == nil {
			todo = append(todo, e.newEntry(id))
		}
	}
	e.mu.Unlock()
	for i, ent := range todo {
		select {
		case e.lo <- &job{ent: ent}:
		case <-ctx.Done():
			// Not inspected: the next event of each tries again.
			e.mu.Lock()
			for _, rest := range todo[i:] {
				if rest.state == inspecting && !rest.started && !rest.hurried {
					rest.state, rest.retryAt = failed, time.Now()
				}
			}
			e.mu.Unlock()
			return
		}
	}
}

// Close stops the workers and any Resync, and drops the events that were
// still waiting (the instance is closing).
func (e *Enricher) Close() {
	e.mu.Lock()
	e.closed = true // workers finishing now deliver nothing
	e.mu.Unlock()
	e.cancel()
	e.workers.Wait()
	e.syncs.Wait()
	e.mu.Lock()
	e.timer.Stop()
	for e.n > 0 {
		e.ring[e.head] = pending{}
		e.head = (e.head + 1) % len(e.ring)
		e.n--
	}
	e.c.CacheEntries.Add(-uint64(len(e.cache))) // two's complement: subtracts
	clear(e.cache)
	e.mu.Unlock()
	if b := e.insp.Swap(nil); b != nil {
		if c, ok := b.Inspector.(interface{ Close() error }); ok {
			c.Close()
		}
	}
}
