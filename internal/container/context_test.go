package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	dcontainer "github.com/docker/docker/api/types/container"

	"github.com/falco-docker/docker-plugin/internal/event"
)

func ptr(s string) *string { return &s }

// Inspect documents recorded from the real engines (testdata: docker run
// with the settings of the tests' escape container; Podman's through its
// compatible API) give these contexts.
func TestFromInspectRecorded(t *testing.T) {
	rootMounts := []event.Mount{
		{Type: "bind", Source: "/", Destination: "/host", RW: event.FlagFalse},
		{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: event.FlagTrue},
	}
	for _, tc := range []struct {
		file   string
		podman bool
		want   event.Context
	}{
		{"docker-20.10-escape.json", false, event.Context{
			ID: "d54f04fb482f61bdea2bd1f9943a96b78d3e01c506f56f3279910f56ae609134", Privileged: event.FlagTrue, HostPID: event.FlagTrue,
			HostNetwork: event.FlagFalse, HostIPC: event.FlagTrue, ReadonlyRootfs: event.FlagTrue, User: ptr("1000"),
			CapAdd: []string{"NET_ADMIN", "SYS_ADMIN"}, CapDrop: []string{"NET_RAW"}, // Docker stores CAP_NET_ADMIN
			SecurityOpt: []string{"seccomp=unconfined", "apparmor=unconfined", "no-new-privileges", "label=disable"},
			Devices:     []string{"/dev/null"}, Mounts: rootMounts,
			ImageID: "sha256:cf7d947440039c53cfd904b44953680f455088c8e058348da0f1439a030aa650", Cmdline: "/testbox sleep",
		}},
		{"podman-4.3-escape.json", true, event.Context{
			ID: "d504c1b51ac5b5d58a1ca466f92b948b97a064c310418fdca58094c3f9d65666", Privileged: event.FlagTrue, HostPID: event.FlagTrue,
			HostNetwork: event.FlagFalse, HostIPC: event.FlagUnknown, // Podman says shareable whatever it is
			ReadonlyRootfs: event.FlagTrue, User: ptr("1000"), CapAdd: []string{}, CapDrop: []string{"SYS_RESOURCE"},
			SecurityOpt: []string{"seccomp=unconfined"}, Devices: []string{}, Mounts: rootMounts,
			ImageID: "sha256:672cc2de9ea00682d81d76e56361572499e39ddf08cc1f0dee0d05dc892fb433", Cmdline: "/testbox sleep",
		}},
		{"podman-4.3-hostnet.json", true, event.Context{
			ID: "3551776c2698974bb4725cfa7fff43db23ce443f07809545b76a25bcb15f0a3b", Privileged: event.FlagFalse, HostPID: event.FlagFalse,
			HostNetwork: event.FlagTrue, ReadonlyRootfs: event.FlagFalse, User: ptr(""),
			CapAdd: []string{"NET_ADMIN", "SYS_ADMIN"}, CapDrop: []string{"NET_RAW"},
			SecurityOpt: []string{"no-new-privileges", "apparmor=unconfined"}, Devices: []string{}, Mounts: []event.Mount{},
			ImageID: "sha256:672cc2de9ea00682d81d76e56361572499e39ddf08cc1f0dee0d05dc892fb433", Cmdline: "/testbox sleep",
		}},
		{"podman-4.3-device.json", true, event.Context{
			ID: "c4495eed1084b69189bcd207617fd1beed7021f0049c924ae689a9864a55f329", Privileged: event.FlagFalse, HostPID: event.FlagFalse,
			HostNetwork: event.FlagFalse, ReadonlyRootfs: event.FlagFalse, User: ptr(""), CapAdd: []string{}, CapDrop: []string{},
			SecurityOpt: []string{}, Devices: []string{"/dev/null"}, Mounts: []event.Mount{},
			ImageID: "sha256:672cc2de9ea00682d81d76e56361572499e39ddf08cc1f0dee0d05dc892fb433", Cmdline: "/testbox sleep",
		}},
	} {
		data, err := os.ReadFile("testdata/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		var r dcontainer.InspectResponse
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		got := FromInspect(&r, "", tc.podman)
		if got.CapDrop == nil {
			got.CapDrop = []string{}
		}
		if !reflect.DeepEqual(got, tc.want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tc.want)
			t.Errorf("%s:\n got %s\nwant %s", tc.file, gj, wj)
		}
	}
}

// A document without the parts the context comes from gives unknowns,
// never defaults.
func TestFromInspectMissingParts(t *testing.T) {
	var r dcontainer.InspectResponse
	if err := json.Unmarshal([]byte(`{"Id":"c"}`), &r); err != nil {
		t.Fatal(err)
	}
	c := FromInspect(&r, "", false)
	if c.Privileged.Known() || c.HostPID.Known() || c.HostIPC.Known() || c.User != nil || c.CapAdd != nil || c.Cmdline != "" {
		t.Errorf("context from a bare document: %+v", c)
	}
	member := string(event.CloseContext(event.AppendContext(nil, &c)))
	if member != `{"id":"c","mounts":[]}` {
		t.Errorf("member %s", member)
	}
}

func TestNormalisation(t *testing.T) {
	if got := capabilities([]string{"CAP_SYS_ADMIN", "sys_ptrace", " cap_net_admin", "ALL", "all"}); !reflect.DeepEqual(got, []string{"SYS_ADMIN", "SYS_PTRACE", "NET_ADMIN", "ALL", "ALL"}) {
		t.Errorf("capabilities: %q", got)
	}
	profile := `{"defaultAction":"SCMP_ACT_ALLOW"}`
	for in, want := range map[string]string{
		"seccomp=unconfined":   "seccomp=unconfined",
		"seccomp:unconfined":   "seccomp:unconfined",
		"seccomp=" + profile:   "seccomp=profile:sha256:",
		"seccomp:" + profile:   "seccomp=profile:sha256:",
		"apparmor=unconfined":  "apparmor=unconfined",
		"label=disable":        "label=disable",
		"no-new-privileges":    "no-new-privileges",
		"seccomp=/etc/x.json":  "seccomp=/etc/x.json",
		"apparmor={not json}}": "apparmor={not json}}",
	} {
		got := securityOpt(in)
		if !strings.HasPrefix(got, want) || (strings.HasSuffix(want, ":") && len(got) != len(want)+12) {
			t.Errorf("securityOpt(%.40q) = %q, want %q...", in, got, want)
		}
	}
	for _, tc := range []struct {
		ref     string
		digests []string
		want    string
	}{
		{"alpine:3.20", []string{"alpine@sha256:aa"}, "sha256:aa"},
		{"alpine", []string{"docker.io/library/alpine@sha256:bb"}, "sha256:bb"},
		{"library/alpine:3", []string{"alpine@sha256:cc"}, "sha256:cc"},
		{"alpine@sha256:dd", []string{"alpine@sha256:ee"}, "sha256:dd"},
		{"ghcr.io/x/app:1", []string{"docker.io/x/app@sha256:ff"}, ""},
		{"localhost:5000/app:1", []string{"localhost:5000/app@sha256:11"}, "sha256:11"},
		{"docker.io/library/tbx:1", []string{"docker.io/library/tbx@sha256:22"}, "sha256:22"},
		{"tbx:1", nil, ""},
	} {
		if got := repoDigest(tc.ref, tc.digests); got != tc.want {
			t.Errorf("repoDigest(%q, %q) = %q, want %q", tc.ref, tc.digests, got, tc.want)
		}
	}
}

// Answers beyond maxResponse are refused, not buffered or truncated.
func TestLimitedBody(t *testing.T) {
	for _, tc := range []struct {
		size int
		ok   bool
	}{{0, true}, {100, true}, {maxResponse, true}, {maxResponse + 1, false}, {3 * maxResponse, false}} {
		b := &limitedBody{rc: io.NopCloser(bytes.NewReader(make([]byte, tc.size))), left: maxResponse}
		n, err := io.Copy(io.Discard, b)
		if tc.ok && (err != nil || n != int64(tc.size)) {
			t.Errorf("%d bytes: read %d, %v", tc.size, n, err)
		}
		if !tc.ok && !errors.Is(err, errTooLarge) {
			t.Errorf("%d bytes: read %d, %v; want a refusal", tc.size, n, err)
		}
	}
}
