// Command sdkplugin is the conformance suite's test plugin written with
// plugin-sdk-go's high-level API (pkg/sdk/plugins, plugins/source,
// plugins/extractor): the way most Go plugins are written. It is a module of
// its own so that the main module never depends on those packages (the
// plugin itself uses only the SDK's low-level symbol packages, see
// TestForbiddenImports); tests/conformance builds it and expects it to pass
// every FAIL check.
//
// Events: JSON payloads {"n": N, "name": "event-N", "tags": [...]}, "events"
// of them (init config, default 200), then EOF. Open params: "" or "seq".
// The SDK has no package for plugin_get_metrics: it is exported by hand
// below (metrics.go), as a plugin author would.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins/extractor"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/plugins/source"
)

const schema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "events": {
      "type": "integer", "minimum": 0, "maximum": 100000,
      "title": "Events", "description": "Events produced before EOF.",
      "default": 200, "examples": [200]
    }
  }
}`

type config struct {
	Events int `json:"events"`
}

// Plugin is the plugin state.
type Plugin struct {
	plugins.BasePlugin
	cfg      config
	produced atomic.Uint64
	opened   atomic.Int64
	metrics  *metricsBuf
}

type payload struct {
	N    uint64   `json:"n"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

func (p *Plugin) Info() *plugins.Info {
	return &plugins.Info{
		ID:                  999,
		Name:                "sdktest",
		Description:         "the conformance suite's test plugin written with plugin-sdk-go's high-level API",
		Contact:             "github.com/falco-docker/docker-plugin",
		Version:             "0.1.0",
		EventSource:         "sdktest",
		ExtractEventSources: []string{"sdktest"},
	}
}

func (p *Plugin) InitSchema() *sdk.SchemaInfo { return &sdk.SchemaInfo{Schema: schema} }

func (p *Plugin) Init(cfg string) error {
	p.cfg = config{Events: 200}
	if strings.TrimSpace(cfg) != "" {
		dec := json.NewDecoder(strings.NewReader(cfg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p.cfg); err != nil {
			return fmt.Errorf("init config: %w", err)
		}
	}
	if p.cfg.Events < 0 || p.cfg.Events > 100000 {
		return fmt.Errorf("init config: events %d out of range 0..100000", p.cfg.Events)
	}
	p.metrics = newMetricsBuf()
	return nil
}

func (p *Plugin) Destroy() { p.metrics.free() }

func (p *Plugin) OpenParams() ([]sdk.OpenParam, error) {
	return []sdk.OpenParam{{Value: "seq", Desc: "a sequence of JSON events"}}, nil
}

func (p *Plugin) Open(params string) (source.Instance, error) {
	if params != "" && params != "seq" {
		return nil, fmt.Errorf("open params %q: want \"\" or \"seq\"", params)
	}
	total := uint64(p.cfg.Events)
	var n uint64
	pull := func(ctx context.Context, evt sdk.EventWriter) error {
		if n >= total {
			return sdk.ErrEOF
		}
		b, err := json.Marshal(payload{N: n, Name: "event-" + strconv.FormatUint(n, 10), Tags: []string{"alpha", "beta"}})
		if err != nil {
			return err
		}
		if _, err := evt.Writer().Write(b); err != nil {
			return err
		}
		evt.SetTimestamp(uint64(time.Now().UnixNano()))
		n++
		p.produced.Add(1)
		return nil
	}
	progress := func() (float64, string) {
		if total == 0 {
			return 1, "0/0"
		}
		return float64(n) / float64(total), fmt.Sprintf("%d/%d", n, total)
	}
	p.opened.Add(1)
	return source.NewPullInstance(pull, source.WithInstanceProgress(progress),
		source.WithInstanceClose(func() { p.opened.Add(-1) }))
}

func (p *Plugin) String(evt sdk.EventReader) (string, error) {
	pl, err := decode(evt)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sdktest event %d (%s)", pl.N, pl.Name), nil
}

func (p *Plugin) Fields() []sdk.FieldEntry {
	return []sdk.FieldEntry{
		{Type: "uint64", Name: "sdktest.n", Display: "N", Desc: "The event number."},
		{Type: "string", Name: "sdktest.name", Display: "Name", Desc: "The event name."},
		{Type: "bool", Name: "sdktest.even", Display: "Even", Desc: "Whether the event number is even."},
		{Type: "abstime", Name: "sdktest.ts", Display: "Time", Desc: "The event time."},
		{Type: "reltime", Name: "sdktest.age", Display: "Age", Desc: "The event number, as seconds."},
		{Type: "string", Name: "sdktest.tags", IsList: true, Display: "Tags", Desc: "The event tags."},
		{Type: "string", Name: "sdktest.tag", Arg: sdk.FieldEntryArg{IsRequired: true, IsIndex: true}, Display: "Tag", Desc: "One tag, by index."},
		{Type: "string", Name: "sdktest.attr", Arg: sdk.FieldEntryArg{IsRequired: true, IsKey: true}, Display: "Attribute", Desc: "A top-level payload member, by key, as a string."},
	}
}

// decode reads an event's payload; hostile payloads give an error.
func decode(evt sdk.EventReader) (payload, error) {
	var pl payload
	b, err := io.ReadAll(io.LimitReader(evt.Reader(), 1<<20))
	if err != nil {
		return pl, err
	}
	if err := json.Unmarshal(b, &pl); err != nil {
		return pl, fmt.Errorf("payload: %w", err)
	}
	return pl, nil
}

// types are the field types Extract answers for, by field id.
var types = []uint32{sdk.FieldTypeUint64, sdk.FieldTypeCharBuf, sdk.FieldTypeBool, sdk.FieldTypeAbsTime,
	sdk.FieldTypeRelTime, sdk.FieldTypeCharBuf, sdk.FieldTypeCharBuf, sdk.FieldTypeCharBuf}

func (p *Plugin) Extract(req sdk.ExtractRequest, evt sdk.EventReader) error {
	id := req.FieldID()
	// SetValue panics on a value of another type than the request's: a
	// request Falco would not send (unknown id, other type) is an error.
	if id >= uint64(len(types)) || req.FieldType() != types[id] || req.IsList() != (id == 5) {
		return fmt.Errorf("field %d (%s) type %d: not a field of this plugin", id, req.Field(), req.FieldType())
	}
	pl, err := decode(evt)
	if err != nil {
		return nil // no value
	}
	switch id {
	case 0:
		req.SetValue(pl.N)
	case 1:
		req.SetValue(pl.Name)
	case 2:
		req.SetValue(pl.N%2 == 0)
	case 3:
		req.SetValue(time.Unix(0, int64(evt.Timestamp())))
	case 4:
		req.SetValue(time.Duration(pl.N) * time.Second)
	case 5:
		if len(pl.Tags) > 0 {
			req.SetValue(pl.Tags)
		}
	case 6:
		if req.ArgPresent() && req.ArgIndex() < uint64(len(pl.Tags)) {
			req.SetValue(pl.Tags[req.ArgIndex()])
		}
	case 7:
		b, _ := evtPayloadMember(evt, req.ArgKey())
		if b != nil {
			req.SetValue(string(b))
		}
	}
	return nil
}

// evtPayloadMember returns the raw JSON of a top-level member of the payload.
func evtPayloadMember(evt sdk.EventReader, key string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(evt.Reader(), 1<<20))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	v, ok := m[key]
	if !ok {
		return nil, nil
	}
	return bytes.TrimSpace(v), nil
}

func init() {
	plugins.SetFactory(func() plugins.Plugin {
		p := &Plugin{}
		source.Register(p)
		extractor.Register(p)
		return p
	})
}

func main() {}
