package container

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

func dockerInspector(t *testing.T, d *sourcetest.Daemon) *Docker {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(d.Endpoint()), client.WithVersion("1.41"), ClientOpt())
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context, path string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+client.DummyHost+"/v1.41"+path, nil)
		return cli.HTTPClient().Do(req)
	}
	in := NewDocker(cli, false, get)
	t.Cleanup(func() { in.Close() })
	return in
}

// The Docker inspector against the fake daemon: the calls it makes, and
// what a 404 and an oversize answer become.
func TestDockerInspector(t *testing.T) {
	d := sourcetest.New(t, "1.41")
	d.SetContainer("c1", `{"Id":"c1","Path":"sh","Args":["-c","x"],"Image":"sha256:1","ExecIDs":["e1","e2"],"HostConfig":{"Privileged":true,"NetworkMode":"host","IpcMode":"shareable"},"Config":{"Image":"app@sha256:99","User":""},"Mounts":[{"Type":"tmpfs","Destination":"/run"}]}`)
	d.SetContainer("c2", `{"Id":"c2"}`)
	d.SetExec("e1", `{"ProcessConfig":{"entrypoint":"bash","arguments":[]}}`)
	d.SetContainer("huge", `{"Id":"huge","Path":"`+strings.Repeat("x", maxResponse)+`"}`)
	in := dockerInspector(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := in.Inspect(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "c1" || !c.Privileged.True() || !c.HostNetwork.True() || c.HostIPC.True() || !c.HostIPC.Known() || c.Cmdline != "sh -c x" ||
		c.ImageDigest != "sha256:99" || len(c.Mounts) != 0 || c.User == nil || *c.User != "" {
		t.Errorf("c1: %+v", c)
	}
	if _, err := in.Inspect(ctx, "nope"); !IsNotFound(err) {
		t.Errorf("a 404: %v, want IsNotFound", err)
	}
	if _, err := in.Inspect(ctx, "huge"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an oversize answer: %v", err)
	}
	ids, err := in.List(ctx, 10)
	if err != nil || strings.Join(ids, ",") != "huge,c2,c1" {
		t.Errorf("List: %q %v", ids, err)
	}
	if ids, err := in.List(ctx, 1); err != nil || len(ids) != 1 {
		t.Errorf("List limited to 1: %q %v", ids, err)
	}
	if s, err := in.ExecSessions(ctx, "c1"); err != nil || strings.Join(s, ",") != "e1,e2" {
		t.Errorf("ExecSessions: %q %v", s, err)
	}
	if cmd, err := in.ExecCmdline(ctx, "e1"); err != nil || cmd != "bash" {
		t.Errorf("ExecCmdline(e1): %q %v", cmd, err)
	}
	if _, err := in.ExecCmdline(ctx, "e2"); !IsNotFound(err) {
		t.Errorf("ExecCmdline of a gone session: %v", err)
	}
	if _, err := in.ExecCmdline(ctx, "../containers/c1"); err == nil {
		t.Error("an exec id with a path accepted")
	}
}
