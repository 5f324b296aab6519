// Command docker is libdocker.so, the Falco plugin for Docker Engine events:
// event source "docker" (live daemon events, or replay of recorded files)
// and extraction of docker.* fields. Build with
// `go build -buildmode=c-shared -o libdocker.so ./plugin` (or `make`).
//
// This file is wiring only: the plugin's identity, and one call that
// registers it with the C ABI layer (abi/).
package main

import "github.com/falco-docker/docker-plugin/abi"

const (
	// The registry's docker plugin identity, kept so that existing
	// falco.yaml entries and rules keep working.
	pluginID     = 5
	pluginName   = "docker"
	pluginSource = "docker"
	// Version of this plugin.
	pluginVersion = "0.5.0"
	// Plugin API 3.11.0 (Falco >= 0.41): the lowest version that covers
	// what the plugin uses. plugin-sdk-go v0.8.3's plugin_extract_fields
	// reads value_offsets, a member of the extract input added in 3.11.0;
	// plugin_get_metrics needs 3.6.0 and the addOutput field property 3.8.0.
	requiredAPIVersion = "3.11.0"
)

func init() {
	abi.Register(abi.Info{
		ID:                 pluginID,
		Name:               pluginName,
		Description:        "Docker Engine events (containers, exec, images, networks, volumes, plugins, swarm) as a Falco event source, live from the daemon or replayed from recorded files, with docker.* fields",
		Contact:            "github.com/falco-docker/docker-plugin",
		Version:            pluginVersion,
		RequiredAPIVersion: requiredAPIVersion,
		EventSource:        pluginSource,
		ExtractSources:     []string{pluginSource},
	})
}

func main() {}
