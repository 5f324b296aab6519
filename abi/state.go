package abi

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/falcosecurity/plugin-sdk-go/pkg/ptr"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/event"
	"github.com/falco-docker/docker-plugin/internal/fields"
	"github.com/falco-docker/docker-plugin/internal/metrics"
	"github.com/falco-docker/docker-plugin/internal/source"
)

// pluginState is what plugin_init returns (behind a cgo handle). One per
// event source thread in Falco; extraction, event_to_string and next_batch
// of its instances run on that thread, metrics may be read from another.
type pluginState struct {
	lastError
	cfg      config.Config
	counters metrics.Counters
	metrics  metricsExport
	profiler stopper

	// Extraction (extract.go): the event last parsed, keyed by its address,
	// number, source and length (a host reusing numbers cannot make us
	// answer for the wrong event), and its value table.
	x        *extraction
	cliBuf   []byte
	cliAttrs []event.Attr

	lastErrBuf   ptr.StringBuffer
	stringerBuf  ptr.StringBuffer
	openParamBuf ptr.StringBuffer
	destroyed    bool
}

func newPluginState(cfgStr string) (*pluginState, error) {
	cfg, err := config.Parse(cfgStr)
	if err != nil {
		return nil, err
	}
	x, err := newExtraction()
	if err != nil {
		return nil, err
	}
	p := &pluginState{cfg: cfg, x: x}
	setLogLevel(cfg.LogLevel)
	if cfg.PprofAddr != "" {
		s, err := startProfiler(cfg.PprofAddr)
		if err != nil {
			x.free()
			return nil, err
		}
		p.profiler = s
	}
	if err := p.metrics.init(); err != nil {
		if p.profiler != nil {
			p.profiler.Stop()
		}
		x.free()
		return nil, err
	}
	return p, nil
}

// Interfaces the SDK glue looks for.
var (
	_ sdk.PluginState      = (*pluginState)(nil)
	_ sdk.LastError        = (*pluginState)(nil)
	_ sdk.LastErrorBuffer  = (*pluginState)(nil)
	_ sdk.Stringer         = (*pluginState)(nil)
	_ sdk.StringerBuffer   = (*pluginState)(nil)
	_ sdk.OpenParams       = (*pluginState)(nil)
	_ sdk.OpenParamsBuffer = (*pluginState)(nil)
	_ sdk.Destroyer        = (*pluginState)(nil)
)

func (p *pluginState) LastErrorBuffer() sdk.StringBuffer  { return &p.lastErrBuf }
func (p *pluginState) StringerBuffer() sdk.StringBuffer   { return &p.stringerBuf }
func (p *pluginState) OpenParamsBuffer() sdk.StringBuffer { return &p.openParamBuf }

// Destroy implements sdk.Destroyer (plugin_destroy). The SDK glue then frees
// the pool and the string buffers and deletes the handle.
func (p *pluginState) Destroy() {
	defer func() {
		if r := recover(); r != nil {
			_ = panicError("plugin_destroy", r)
		}
	}()
	if p.destroyed {
		return
	}
	p.destroyed = true
	if p.profiler != nil {
		p.profiler.Stop()
	}
	p.x.free()
	p.metrics.free()
	liveStates.Add(-1)
	registry.remove(p)
	faultpoint("destroy") // after the cleanup: a contained panic must not leak
}

// String implements sdk.Stringer (plugin_event_to_string): the event as the
// `docker events` CLI prints it. The returned string aliases a buffer reused
// across calls; the SDK glue copies it at once.
func (p *pluginState) String(evt sdk.EventReader) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError("plugin_event_to_string", r)
			p.SetLastError(err)
		}
	}()
	faultpoint("event_to_string")
	in := eventInput(evt)
	e, err := p.parsed(in)
	if err != nil {
		return "", err
	}
	p.cliBuf, p.cliAttrs = e.AppendCLI(p.cliBuf[:0], uint64(in.evt.ts), p.cliAttrs)
	return unsafe.String(unsafe.SliceData(p.cliBuf), len(p.cliBuf)), nil
}

// OpenParams implements sdk.OpenParams (plugin_list_open_params).
func (p *pluginState) OpenParams() (list []sdk.OpenParam, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError("plugin_list_open_params", r)
		}
	}()
	faultpoint("list_open_params")
	for _, e := range source.ListEndpoints() {
		list = append(list, sdk.OpenParam{Value: e.Value, Desc: e.Desc})
	}
	return list, nil
}

// instanceState is what plugin_open returns (behind a cgo handle).
type instanceState struct {
	plugin   *pluginState
	params   string
	src      source.Source
	batch    *batch
	wait     time.Duration
	progress ptr.StringBuffer
	closed   bool
	handle   uintptr // its handle value once published to nextbatch.c, else 0
}

var (
	_ sdk.InstanceState  = (*instanceState)(nil)
	_ sdk.Events         = (*instanceState)(nil)
	_ sdk.Progresser     = (*instanceState)(nil)
	_ sdk.ProgressBuffer = (*instanceState)(nil)
	_ sdk.Closer         = (*instanceState)(nil)
)

func (p *pluginState) open(params string) (*instanceState, error) {
	src, err := source.Open(params, source.Env{
		Config:       p.cfg,
		Counters:     &p.counters,
		Log:          logger,
		SetLastError: p.SetLastError,
	})
	if err != nil {
		return nil, err
	}
	b, err := newBatch(p.cfg.BatchSize, p.cfg.MaxEventSize)
	if err != nil {
		src.Close()
		return nil, err
	}
	return &instanceState{
		plugin: p,
		params: params,
		src:    src,
		batch:  b,
		wait:   time.Duration(p.cfg.WaitMs) * time.Millisecond,
	}, nil
}

func (i *instanceState) Events() sdk.EventWriters {
	if i.batch == nil {
		return nil
	}
	return i.batch
}

// SetEvents: the SDK sets nil at close, after calling Free.
func (i *instanceState) SetEvents(w sdk.EventWriters) {
	if w == nil {
		i.batch = nil
	}
}

func (i *instanceState) ProgressBuffer() sdk.StringBuffer { return &i.progress }

// nextBatch does the Go part of plugin_next_batch (nextbatch.go maps
// sdk.ErrEOF/sdk.ErrTimeout to SS_PLUGIN_EOF/TIMEOUT and any other error to
// SS_PLUGIN_FAILURE with the error as last error).
func (i *instanceState) nextBatch(ps *pluginState) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, panicError("plugin_next_batch", r)
		}
	}()
	faultpoint("next_batch")
	if i.closed || i.batch == nil {
		return 0, errors.New("plugin_next_batch: instance is closed")
	}
	if ps != i.plugin {
		return 0, i.rebind(ps)
	}
	i.batch.reset()
	err = i.src.Next(sourceBatch{i.batch}, i.wait)
	n = i.batch.n
	i.plugin.counters.Delivered.Add(uint64(n))
	switch err {
	case nil:
		return n, nil
	case source.ErrTimeout:
		return n, sdk.ErrTimeout
	case source.ErrEOF:
		return n, sdk.ErrEOF
	}
	return 0, err
}

// rebind moves the instance to the plugin state Falco really opened it
// from (see the open callback in register.go): the source is reopened with
// that state's configuration and counters, and the batch reallocated for it.
// This call delivers nothing (SS_PLUGIN_TIMEOUT).
func (i *instanceState) rebind(ps *pluginState) error {
	logger.Debugf("plugin_next_batch: instance opened under another plugin state; rebinding")
	fresh, err := ps.open(i.params)
	if err != nil {
		return fmt.Errorf("plugin_next_batch: reopen %q for its plugin state: %w", i.params, err)
	}
	if err := i.src.Close(); err != nil {
		logger.Warnf("close source: %v", err)
	}
	i.batch.Free()
	i.plugin, i.src, i.batch, i.wait = ps, fresh.src, fresh.batch, fresh.wait
	return sdk.ErrTimeout
}

// Progress implements sdk.Progresser (plugin_get_progress).
func (i *instanceState) Progress(_ sdk.PluginState) (pct float64, s string) {
	defer func() {
		if r := recover(); r != nil {
			err := panicError("plugin_get_progress", r)
			i.plugin.SetLastError(err)
			pct, s = 0, err.Error()
		}
	}()
	faultpoint("progress")
	return i.src.Progress()
}

// Close implements sdk.Closer (plugin_close). The SDK glue then frees the
// batch (Events().Free()) and deletes the handle.
func (i *instanceState) Close() {
	defer func() {
		if r := recover(); r != nil {
			i.plugin.SetLastError(panicError("plugin_close", r))
		}
	}()
	if i.closed {
		return
	}
	i.closed = true
	liveInstances.Add(-1)
	i.unpublishWait()
	if err := i.src.Close(); err != nil {
		logger.Warnf("close source: %v", err)
	}
	faultpoint("close") // after the cleanup: a contained panic must not leak
}

func fieldTypeCode(t fields.Type) uint32 {
	switch t {
	case fields.Uint64:
		return sdk.FieldTypeUint64
	case fields.AbsTime:
		return sdk.FieldTypeAbsTime
	case fields.Bool:
		return sdk.FieldTypeBool
	}
	return sdk.FieldTypeCharBuf
}
