package tests

import (
	"os"
	"strings"
	"testing"

	"github.com/falcosecurity/plugin-sdk-go/pkg/loader"
)

// TestSDKLoader is a second opinion from plugin-sdk-go's own loader: it runs
// Falco's required-version and symbol checks and validates init configs
// against the plugin's schema before calling plugin_init. (Test-only use:
// the loader imports the SDK's high-level packages, which the plugin never
// does; TestForbiddenImports checks non-test packages.)
func TestSDKLoader(t *testing.T) {
	needDocker(t)
	p, err := loader.NewValidPlugin(soPath)
	if err != nil {
		t.Fatalf("plugin-sdk-go loader rejects the plugin: %v", err)
	}
	defer p.Unload()
	if !p.HasCapSourcing() || !p.HasCapExtraction() {
		t.Fatalf("capabilities: sourcing %v extraction %v", p.HasCapSourcing(), p.HasCapExtraction())
	}
	info := p.Info()
	if info.Name != "docker" || info.ID != 5 || info.EventSource != "docker" {
		t.Errorf("loader sees %+v", info)
	}
	if len(p.Fields()) == 0 {
		t.Error("loader sees no fields")
	}
	// The README's example init config must satisfy the schema.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cfg := ""
	for _, l := range strings.Split(string(readme), "\n") {
		if s := strings.TrimSpace(l); strings.HasPrefix(s, "init_config: '") {
			cfg = strings.TrimSuffix(strings.TrimPrefix(s, "init_config: '"), "'")
		}
	}
	if cfg == "" {
		t.Fatal("README has no init_config example")
	}
	if err := p.Init(cfg); err != nil {
		t.Errorf("README's init_config %s: %v", cfg, err)
	}
}

// TestSDKLoaderSchemaRejects: a config the schema forbids is refused by the
// loader's validation, like by the plugin's own parser.
func TestSDKLoaderSchemaRejects(t *testing.T) {
	needDocker(t)
	p, err := loader.NewValidPlugin(soPath)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Unload()
	if err := p.Init(`{"batchSize":"many"}`); err == nil {
		t.Error("loader accepted batchSize \"many\"")
	}
}
