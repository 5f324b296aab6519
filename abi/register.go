package abi

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk"
	_ "github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/evtstr"
	sdkfields "github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/fields"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/info"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/initialize"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/initschema"
	_ "github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/lasterr"
	_ "github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/listopen"
	"github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/open"
	_ "github.com/falcosecurity/plugin-sdk-go/pkg/sdk/symbols/progress"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/fields"
	"github.com/falco-docker/docker-plugin/internal/logging"
)

// Info is the plugin's identity, as plugin/docker.go declares it.
type Info struct {
	ID                 uint32
	Name               string
	Description        string
	Contact            string
	Version            string
	RequiredAPIVersion string
	EventSource        string
	ExtractSources     []string
}

var (
	eventSource = ""
	logger      = logging.New(nil, logging.Warning)
)

// setLogLevel applies a plugin state's logLevel. The logger is shared by all
// states of the process (one .so, one logger): the last init wins.
func setLogLevel(s string) {
	if l, err := logging.ParseLevel(s); err == nil {
		logger.SetLevel(l)
	}
}

// Handle budget. plugin-sdk-go's cgo handle table holds 255 live handles
// and NewHandle panics (in C-called glue, killing the host) when it is full.
// Init and open refuse cleanly before that; the margin leaves room for the
// handles the SDK creates for failed inits (released at destroy).
const maxLiveHandles = 240

var (
	liveStates    atomic.Int64
	liveInstances atomic.Int64
)

func reserveHandle(what string) error {
	if liveStates.Load()+liveInstances.Load() >= maxLiveHandles {
		return fmt.Errorf("%s: too many live plugin states and open instances (%d): close or destroy unused ones", what, maxLiveHandles)
	}
	return nil
}

// Register wires the plugin into plugin-sdk-go's symbol packages. Call it
// once, from plugin/docker.go's init.
func Register(in Info) {
	info.SetId(in.ID)
	info.SetName(in.Name)
	info.SetDescription(in.Description)
	info.SetContact(in.Contact)
	info.SetVersion(in.Version)
	info.SetRequiredAPIVersion(in.RequiredAPIVersion)
	info.SetEventSource(in.EventSource)
	info.SetExtractEventSources(in.ExtractSources)
	eventSource = in.EventSource

	initschema.SetInitSchema(&sdk.SchemaInfo{Schema: config.Schema()})
	sdkfields.SetFields(FieldEntries())

	initialize.SetOnInit(func(cfg string) (state sdk.PluginState, err error) {
		defer func() {
			if r := recover(); r != nil {
				state, err = nil, panicError("plugin_init", r)
			}
		}()
		faultpoint("init")
		if err := reserveHandle("plugin_init"); err != nil {
			return nil, err
		}
		p, err := newPluginState(cfg)
		if err != nil {
			return nil, err
		}
		liveStates.Add(1)
		registry.add(p)
		return p, nil
	})

	open.SetOnOpen(func(params string) (inst sdk.InstanceState, err error) {
		defer func() {
			if r := recover(); r != nil {
				inst, err = nil, panicError("plugin_open", r)
			}
		}()
		faultpoint("open")
		if err := reserveHandle("plugin_open"); err != nil {
			return nil, err
		}
		// The SDK's open glue does not pass the plugin state to this
		// callback (its own high-level API binds open to the most recently
		// created plugin too). Open with the newest live state; the first
		// plugin_next_batch, which does get the state, rebinds the
		// instance if Falco opened it from another one.
		p := registry.newest()
		if p == nil {
			return nil, errors.New("plugin_open: no initialized plugin state (call plugin_init first)")
		}
		i, err := p.open(params)
		if err != nil {
			return nil, err
		}
		liveInstances.Add(1)
		return i, nil
	})
}

// registry tracks the live plugin states in init order.
var registry stateRegistry

type stateRegistry struct {
	mu     sync.Mutex
	states []*pluginState
}

func (r *stateRegistry) add(p *pluginState) {
	r.mu.Lock()
	r.states = append(r.states, p)
	r.mu.Unlock()
}

func (r *stateRegistry) remove(p *pluginState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.states {
		if s == p {
			r.states = append(r.states[:i], r.states[i+1:]...)
			return
		}
	}
}

func (r *stateRegistry) newest() *pluginState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return nil
	}
	return r.states[len(r.states)-1]
}

// FieldEntries converts the field table to what plugin_get_fields serves.
func FieldEntries() []sdk.FieldEntry {
	out := make([]sdk.FieldEntry, len(fields.Table))
	for i, f := range fields.Table {
		out[i] = sdk.FieldEntry{
			Name:       f.Name,
			Type:       string(f.Type),
			IsList:     f.IsList,
			Display:    f.Display,
			Desc:       f.Desc,
			Properties: f.Properties,
			Arg:        sdk.FieldEntryArg{IsRequired: f.ArgRequired, IsKey: f.ArgIsKey, IsIndex: f.ArgIsIndex},
		}
	}
	return out
}
