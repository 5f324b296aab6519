package rules

import (
	"fmt"
	"os"
	"testing"

	"github.com/falco-docker/docker-plugin/tests/dockertest"
)

// TestMain stops the engines the live rules tests started and removes
// their test images.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := dockertest.Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
