package fields

import "github.com/falco-docker/docker-plugin/internal/event"

// extractContext extracts the container context fields (ids CtrPrivileged
// to CtrCmdline): values of the payload's container member, none without it.
func extractContext(id uint64, arg string, argPresent bool, e *event.Event, out Sink) error {
	switch id {
	case CtrPrivileged:
		putBool(out, e.ContainerPrivileged())
	case CtrHostPID:
		putBool(out, e.ContainerHostPID())
	case CtrHostNetwork:
		putBool(out, e.ContainerHostNetwork())
	case CtrHostIPC:
		putBool(out, e.ContainerHostIPC())
	case CtrReadonlyRootfs:
		putBool(out, e.ContainerReadonlyRootfs())
	case CtrMounts:
		for _, m := range e.ContainerMounts() {
			out.String(e.MountString(m))
		}
	case CtrMountSource, CtrMountDest:
		if !argPresent || arg == "" {
			return errMissingMountArg
		}
		byDest := id == CtrMountSource // source[DEST]: the mount is found by its destination
		if m, ok := e.FindMount(arg, byDest); ok {
			if byDest {
				out.String(m.Source)
			} else {
				out.String(m.Destination)
			}
		}
	case CtrMountSources:
		putList(out, e.ContainerMountSources())
	case CtrCapAdd:
		putList(out, e.ContainerCapAdd())
	case CtrCapDrop:
		putList(out, e.ContainerCapDrop())
	case CtrSecurityOpt:
		putList(out, e.ContainerSecurityOpt())
	case CtrDevices:
		putList(out, e.ContainerDevices())
	case CtrUser:
		putStr(out, e.ContainerUser())
	case CtrImageID:
		putStr(out, e.ContainerImageID())
	case CtrImageDigest:
		putStr(out, e.ContainerImageDigest())
	case CtrCmdline:
		putStr(out, e.ContainerCmdline())
	default:
		return ErrUnknownField{ID: id}
	}
	return nil
}

func putBool(out Sink, v event.Bool) {
	if v.OK {
		out.Bool(v.V)
	}
}

func putList(out Sink, l []string) {
	for _, s := range l {
		out.String(s)
	}
}
