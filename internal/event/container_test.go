package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// A context round-trips: what AppendContext writes, the accessors read,
// and the result is valid JSON encoding/json reads the same way.
func TestContextRoundTrip(t *testing.T) {
	user := "1000:1000"
	c := Context{
		ID: cid, Privileged: FlagTrue, HostPID: FlagFalse, HostNetwork: FlagTrue, HostIPC: FlagUnknown, ReadonlyRootfs: FlagTrue,
		User: &user, CapAdd: []string{"SYS_ADMIN"}, CapDrop: []string{}, SecurityOpt: []string{"seccomp=unconfined", "x\"\\\n\x01y"},
		Devices: []string{"/dev/fuse"},
		Mounts:  []Mount{{Type: "bind", Source: "/", Destination: "/host", RW: FlagFalse}, {Type: "volume", Source: "/v/_data", Destination: "/data", RW: FlagTrue}},
		ImageID: imid, Cmdline: "nginx -g 'daemon off;'",
	}
	member := CloseContext(AppendExec(AppendContext(nil, &c), Exec{ID: xid, Cmdline: "sh -c id"}))
	if !json.Valid(member) {
		t.Fatalf("not JSON: %s", member)
	}
	var m map[string]any
	json.Unmarshal(member, &m)
	if _, ok := m["hostIpc"]; ok {
		t.Errorf("an unknown flag is written: %s", member)
	}
	if _, ok := m["imageDigest"]; ok {
		t.Errorf("an empty optional string is written: %s", member)
	}
	if got := m["securityOpt"].([]any)[1]; got != "x\"\\\n\x01y" {
		t.Errorf("escaped string round trip via encoding/json: %q", got)
	}
	msg, ok := InsertMember(nil, []byte(pre152Create), ContainerMember, member)
	if !ok || !json.Valid(msg) || !strings.HasPrefix(string(msg), pre152Create[:len(pre152Create)-1]+`,"falco:container":{`) {
		t.Fatalf("InsertMember: %v %s", ok, msg)
	}
	var e Event
	e.Parse(msg)
	if !e.HasContainerContext() {
		t.Fatal("no context read back")
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	check("privileged", e.ContainerPrivileged(), Bool{V: true, OK: true})
	check("hostPid", e.ContainerHostPID(), Bool{OK: true})
	check("hostNetwork", e.ContainerHostNetwork(), Bool{V: true, OK: true})
	check("hostIpc", e.ContainerHostIPC(), Bool{})
	check("readonly", e.ContainerReadonlyRootfs(), Bool{V: true, OK: true})
	check("user", e.ContainerUser(), s(user))
	check("capAdd", e.ContainerCapAdd(), []string{"SYS_ADMIN"})
	check("capDrop", len(e.ContainerCapDrop()), 0)
	check("securityOpt", e.ContainerSecurityOpt(), c.SecurityOpt)
	check("devices", e.ContainerDevices(), c.Devices)
	check("mounts", e.ContainerMounts(), c.Mounts)
	check("mount sources", e.ContainerMountSources(), []string{"/", "/v/_data"})
	check("imageId", e.ContainerImageID(), s(imid))
	check("imageDigest", e.ContainerImageDigest(), na)
	check("cmdline", e.ContainerCmdline(), s(c.Cmdline))
	check("exec cmdline", e.ContextExecCmdline(), s("sh -c id"))
	check("exec id", e.ContextExecID(), s(xid))
	check("mount string", e.MountString(c.Mounts[0]), "/:/host:ro")
	check("mount string rw", e.MountString(c.Mounts[1]), "/v/_data:/data:rw")
	check("mount string unknown mode", e.MountString(Mount{Source: "/a", Destination: "/b"}), "/a:/b")
	// The daemon's members are unchanged.
	check("action", e.Action(), s("create"))
	check("attrs", len(e.Attrs()), 3)

	// Reading allocates nothing once the buffers are grown (escaped
	// strings aside: gjson unescapes them into new strings).
	c.SecurityOpt = []string{"seccomp=unconfined"}
	msg, _ = InsertMember(nil, []byte(pre152Create), ContainerMember, CloseContext(AppendContext(nil, &c)))
	e.Parse(msg)
	e.ContainerCapAdd()
	if n := testing.AllocsPerRun(100, func() {
		e.Parse(msg)
		_ = e.ContainerPrivileged()
		for _, m := range e.ContainerMounts() {
			_ = e.MountString(m)
		}
	}); n != 0 {
		t.Errorf("parse and read the context: %v allocations", n)
	}
}

func TestInsertMember(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{`{"a":1}`, `{"a":1,"k":{}}`},
		{`{}`, `{"k":{}}`},
		{`{ }`, `{ "k":{}}`},
		{`{"a":1} `, `{"a":1,"k":{}}`},
		{"{\"a\":{\"b\":2}}\r\n", `{"a":{"b":2},"k":{}}`},
	} {
		got, ok := InsertMember(nil, []byte(tc.msg), "k", []byte("{}"))
		if !ok || string(got) != tc.want {
			t.Errorf("InsertMember(%q) = %q %v, want %q", tc.msg, got, ok, tc.want)
		}
	}
	for _, bad := range []string{``, `}`, `[1]`, `{"a":1`} {
		if got, ok := InsertMember([]byte("x"), []byte(bad), "k", []byte("{}")); ok || string(got) != "x" {
			t.Errorf("InsertMember(%q) = %q %v, want a refusal", bad, got, ok)
		}
	}
}

// The member is read only under its exact name, only as an object, and
// only for the container the event is about.
func TestContextOnlyForItsContainer(t *testing.T) {
	member := `{"id":"` + cid + `","privileged":true}`
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{`{"Type":"container","Actor":{"ID":"` + cid + `"},"falco:container":` + member + `}`, true},
		{`{"Type":"container","Actor":{"ID":"` + xid + `"},"falco:container":` + member + `}`, false},
		{`{"Type":"container","Actor":{"ID":"` + cid + `"},"Falco:Container":` + member + `}`, false},
		{`{"Type":"container","Actor":{"ID":"` + cid + `"},"falco:container":"` + cid + `"}`, false},
		{`{"Type":"network","Actor":{"ID":"n","Attributes":{"container":"` + cid + `"}},"falco:container":` + member + `}`, true},
		{`{"Type":"volume","Actor":{"ID":"v","Attributes":{"container":"` + cid + `"}},"falco:container":` + member + `}`, true},
		{`{"Type":"image","Actor":{"ID":"` + cid + `"},"falco:container":` + member + `}`, false},
		{`{"Type":"container","Actor":{"ID":"` + cid + `"},"falco:container":` + member + `,"falco:container":{"id":"x"}}`, false}, // the last one wins
	} {
		var e Event
		e.Parse([]byte(tc.msg))
		if got := e.HasContainerContext(); got != tc.want || e.ContainerPrivileged().OK != tc.want {
			t.Errorf("%s: context %v, want %v", tc.msg, got, tc.want)
		}
	}
}

func TestGlobAndFindMount(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"/var/run/docker.sock", "/var/run/docker.sock", true},
		{"/var/run/docker.sock", "/var/run/docker.soc", false},
		{"*", "", true},
		{"*", "/a/b", true},
		{"/run/*/docker.sock", "/run/user/1000/docker.sock", true}, // * crosses '/'
		{"/run/*/docker.sock", "/run/docker.sock", false},
		{"*.sock", "/run/containerd/containerd.sock", true},
		{"/de?/null", "/dev/null", true},
		{"/de?/null", "/de/null", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"**", "x", true},
		{"[x]", "[x]", true}, // no character classes
	} {
		if got := Glob(tc.p, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
	c := Context{ID: cid, Mounts: []Mount{{Source: "/", Destination: "/host"}, {Source: "/etc", Destination: "/host/etc"}}}
	msg, _ := InsertMember(nil, []byte(`{"Type":"container","Actor":{"ID":"`+cid+`"}}`), ContainerMember, CloseContext(AppendContext(nil, &c)))
	var e Event
	e.Parse(msg)
	for _, tc := range []struct {
		arg    string
		byDest bool
		want   string
		ok     bool
	}{
		{"/host", true, "/", true},
		{"/host*", true, "/", true}, // the first that matches
		{"/host/*", true, "/etc", true},
		{"1", true, "/etc", true},
		{"2", true, "", false},
		{"/etc", false, "/host/etc", true},
		{"/", false, "/host", true},
		{"/nope", false, "", false},
	} {
		m, ok := e.FindMount(tc.arg, tc.byDest)
		got := m.Source
		if !tc.byDest {
			got = m.Destination
		}
		if ok != tc.ok || got != tc.want {
			t.Errorf("FindMount(%q, byDest %v) = %q %v, want %q %v", tc.arg, tc.byDest, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzContext: what AppendContext writes, inserted into a message, reads
// back the same (for valid UTF-8: invalid bytes pass through but an escape
// sequence beside them may be read differently); and no payload makes the
// accessors panic or read a context of another container.
func FuzzContext(f *testing.F) {
	f.Add("c1", "1000", "/var/run/docker.sock", "/run/docker.sock", "seccomp=unconfined", `{"Type":"container","Actor":{"ID":"c1"}}`)
	f.Add("x", "", "/a\"b\\c\n", "", "\x01", `{"Type":"network","Actor":{"ID":"n","Attributes":{"container":"x"}},"falco:container":{"id":"x","mounts":[1,{"rw":"no"}]}}`)
	f.Add("id", "u", "*", "?", "apparmor:unconfined", `{"falco:container":{"id":"id"}}`)
	f.Fuzz(func(t *testing.T, id, user, src, dst, opt, raw string) {
		// Any payload: no panic; a context only for the event's container.
		var e Event
		e.Parse([]byte(raw))
		if !surrogateThenEscape.MatchString(raw) {
			checkContextAgainstGJSON(t, &e)
		}
		if e.HasContainerContext() {
			if cid := e.ContainerID(); !cid.OK || e.ctx().id.S != cid.S {
				t.Fatalf("context of %q on an event of %q", e.ctx().id.S, cid.S)
			}
		}
		for _, m := range e.ContainerMounts() {
			_ = e.MountString(m)
		}
		e.FindMount(src, true)
		e.FindMount(dst, false)
		_, _, _, _ = e.ContainerPrivileged(), e.ContainerCapAdd(), e.ContextExecCmdline(), e.ContainerImageDigest()

		for _, s := range []string{id, user, src, dst, opt} {
			if !utf8.ValidString(s) {
				return
			}
		}
		if id == "" {
			return
		}
		c := Context{ID: id, Privileged: FlagTrue, HostIPC: FlagFalse, User: &user, SecurityOpt: []string{opt},
			Mounts: []Mount{{Type: "bind", Source: src, Destination: dst, RW: FlagTrue}}, Cmdline: opt}
		base, _ := json.Marshal(map[string]any{"Type": "container", "Action": "start", "Actor": map[string]any{"ID": id}})
		msg, ok := InsertMember(nil, base, ContainerMember, CloseContext(AppendExec(AppendContext(nil, &c), Exec{ID: dst, Cmdline: src})))
		if !ok || !json.Valid(msg) {
			t.Fatalf("not a JSON object: %q", msg)
		}
		e.Parse(msg)
		if !e.HasContainerContext() || e.ContainerUser().S != user || !reflect.DeepEqual(e.ContainerSecurityOpt(), c.SecurityOpt) ||
			!reflect.DeepEqual(e.ContainerMounts(), c.Mounts) || e.ContextExecCmdline().S != src && src != "" || !e.ContainerPrivileged().V ||
			e.ContainerHostIPC() != (Bool{OK: true}) || e.ContainerHostPID().OK {
			t.Fatalf("read back differs from %+v: %s", c, msg)
		}
		if _, isIndex := mountIndex(dst); isIndex {
			return // [1] is an index, not a path
		}
		if m, ok := e.FindMount(dst, true); !ok || m.Source != src {
			t.Fatalf("FindMount(%q) = %+v %v", dst, m, ok)
		}
	})
}
