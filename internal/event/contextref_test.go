package event

import (
	"reflect"
	"testing"

	"github.com/tidwall/gjson"
)

// The gjson-based decoding of the container context member this package
// used before decodeContext, kept as a reference: checkContextAgainstGJSON
// (run by FuzzParse and FuzzContext) makes sure both read every member alike.

func decodeContextGJSON(v *containerView) {
	obj := gjson.Parse(v.raw)
	if !obj.IsObject() {
		return
	}
	obj.ForEach(func(k, val gjson.Result) bool {
		switch k.Str {
		case "id":
			v.id = strG(val)
		case "privileged":
			v.privileged = boolOfG(val)
		case "hostPid":
			v.hostPid = boolOfG(val)
		case "hostNetwork":
			v.hostNetwork = boolOfG(val)
		case "hostIpc":
			v.hostIpc = boolOfG(val)
		case "readonlyRootfs":
			v.rootfs = boolOfG(val)
		case "user":
			v.user = strG(val)
		case "capAdd":
			v.capAdd = appendStringsG(v.capAdd[:0], val)
		case "capDrop":
			v.capDrop = appendStringsG(v.capDrop[:0], val)
		case "securityOpt":
			v.securityOpt = appendStringsG(v.securityOpt[:0], val)
		case "devices":
			v.devices = appendStringsG(v.devices[:0], val)
		case "mounts":
			v.mounts = v.mounts[:0]
			if val.IsArray() {
				val.ForEach(func(_, m gjson.Result) bool {
					if !m.IsObject() {
						return true
					}
					var mt Mount
					m.ForEach(func(mk, mv gjson.Result) bool {
						switch mk.Str {
						case "type":
							mt.Type = strG(mv).S
						case "source":
							mt.Source = strG(mv).S
						case "destination":
							mt.Destination = strG(mv).S
						case "rw":
							if b := boolOfG(mv); b.OK {
								mt.RW = FlagOf(b.V)
							}
						}
						return true
					})
					v.mounts = append(v.mounts, mt)
					return true
				})
			}
		case "imageId":
			v.imageID = nonEmpty(strG(val))
		case "imageDigest":
			v.imageDigest = nonEmpty(strG(val))
		case "cmdline":
			v.cmdline = nonEmpty(strG(val))
		case "exec":
			if val.IsObject() {
				v.execID = nonEmpty(strG(val.Get("id")))
				v.execCmdline = nonEmpty(strG(val.Get("cmdline")))
			}
		}
		return true
	})
}

// strG is a string value of the member, or no value.
func strG(v gjson.Result) Str {
	if v.Type != gjson.String {
		return Str{}
	}
	return Str{S: v.Str, OK: true}
}

func boolOfG(v gjson.Result) Bool {
	switch v.Type {
	case gjson.True:
		return Bool{V: true, OK: true}
	case gjson.False:
		return Bool{OK: true}
	}
	return Bool{}
}

// appendStringsG appends the string items of a JSON array (others are skipped).
func appendStringsG(dst []string, v gjson.Result) []string {
	if !v.IsArray() {
		return dst
	}
	v.ForEach(func(_, it gjson.Result) bool {
		if it.Type == gjson.String {
			dst = append(dst, it.Str)
		}
		return true
	})
	return dst
}

// checkContextAgainstGJSON decodes e's member both ways and compares.
func checkContextAgainstGJSON(t *testing.T, e *Event) {
	t.Helper()
	got := e.ctx()
	want := containerView{raw: e.cc.raw}
	if want.raw != "" {
		decodeContextGJSON(&want)
	}
	type fields struct {
		ID                                                Str
		Privileged, HostPid, HostNetwork, HostIpc, Rootfs Bool
		User, ImageID, ImageDigest, Cmdline               Str
		CapAdd, CapDrop, SecurityOpt, Devices             []string
		Mounts                                            []Mount
		ExecID, ExecCmdline                               Str
	}
	norm := func(l []string) []string {
		if len(l) == 0 {
			return nil
		}
		return l
	}
	of := func(v *containerView) fields {
		f := fields{v.id, v.privileged, v.hostPid, v.hostNetwork, v.hostIpc, v.rootfs, v.user, v.imageID, v.imageDigest, v.cmdline,
			norm(v.capAdd), norm(v.capDrop), norm(v.securityOpt), norm(v.devices), v.mounts, v.execID, v.execCmdline}
		if len(f.Mounts) == 0 {
			f.Mounts = nil
		}
		return f
	}
	if g, w := of(got), of(&want); !reflect.DeepEqual(g, w) {
		t.Fatalf("context %q: decoded %+v, gjson %+v", e.cc.raw, g, w)
	}
}
