// Package fields is the docker.* field table and extraction by field id.
//
// The table is the single source of truth: abi/ serves it as
// plugin_get_fields JSON (field id = index), the README tables are generated
// from it, and the rules tests check every docker.* name the rules use
// against it. Extraction switches on the integer field id; values are
// handed to a Sink, which copies them before the next value, so nothing
// here allocates. A field that has no value for an event adds nothing: Falco
// prints <NA>.
package fields

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/falco-docker/docker-plugin/internal/event"
)

// Type is a field's plugin API type name.
type Type string

const (
	String  Type = "string"
	Uint64  Type = "uint64"
	AbsTime Type = "abstime"
	Bool    Type = "bool"
)

// Field describes one field, as plugin_get_fields publishes it.
type Field struct {
	ID          int
	Name        string
	Type        Type
	Display     string
	Desc        string
	ArgRequired bool // the field takes a required [KEY] argument
	ArgIsKey    bool // the argument is a key (docker.attributes[KEY])
	ArgIsIndex  bool // the argument may be an index ([0]) too
	IsList      bool // the field extracts a list of values (isList)
	Properties  []string
	Example     string // an example value, for the README
}

// Field ids: the index of each field in Table.
const (
	Status = iota
	ID
	From
	EvtType
	Action
	StackNamespace
	NodeID
	SwarmTask
	SwarmTaskID
	SwarmTaskName
	SwarmServiceName
	NodeStateNew
	NodeStateOld
	AttrContainer
	AttrImage
	AttrName
	AttrType
	AttrExitCode
	AttrSignal
	Scope
	ActorID
	Time
	Attributes
	ActionName
	ActionArgs
	ExecCmdline
	ExecID
	ContainerID
	ContainerName
	ContainerImage
	ContainerExitCode
	ContainerSignal
	ImageName
	ImageTag
	NetworkID
	NetworkName
	NetworkDriver
	VolumeName
	VolumeDriver
	ExecExe
	Engine
	// The container's security context (ContainerMember of the payload).
	CtrPrivileged
	CtrHostPID
	CtrHostNetwork
	CtrHostIPC
	CtrMounts
	CtrMountSource
	CtrMountDest
	CtrMountSources
	CtrCapAdd
	CtrCapDrop
	CtrSecurityOpt
	CtrDevices
	CtrUser
	CtrReadonlyRootfs
	CtrImageID
	CtrImageDigest
	CtrCmdline
	numFields
)

// Table lists every field; Table[i].ID == i.
var Table = []Field{
	// The registry docker plugin's fields: same names, all strings.
	{ID: Status, Name: "docker.status", Type: String, Display: "Status", Example: "die",
		Desc: "Deprecated status of container and image events (no value for other types, as Docker filled it): the action. Derived from the action on Engine API >= 1.52, which no longer sends it; Podman's verbs as in docker.action."},
	{ID: ID, Name: "docker.id", Type: String, Display: "ID", Example: "e327f1fa52a9...",
		Desc: "Deprecated id of container and image events: the container or image id (Podman's image ids are bare hex, without sha256:). Derived from Actor.ID on Engine API >= 1.52; no value when the event names none (image prune, Podman's pull)."},
	{ID: From, Name: "docker.from", Type: String, Display: "From", Example: "alpine:3.20",
		Desc: "Deprecated from of container events: the container's image. Derived from the image attribute on Engine API >= 1.52."},
	{ID: EvtType, Name: "docker.type", Type: String, Display: "Type", Example: "container", Properties: []string{"addOutput"},
		Desc: "Type of object the event is about: container, image, network, volume, daemon, plugin, service, node, secret, config, builder."},
	{ID: Action, Name: "docker.action", Type: String, Display: "Action", Example: "exec_create: sh -c id", Properties: []string{"addOutput"},
		Desc: "Action with its arguments, as Docker Engine sends it (exec_create: sh -c id). Podman's verbs in Docker's vocabulary (exec as exec_start, exec_died as exec_die, remove as destroy, loadfromarchive as load) and its health status appended (health_status: healthy)."},
	{ID: StackNamespace, Name: "docker.stack.namespace", Type: String, Display: "Stack Namespace", Example: "mystack",
		Desc: "Swarm stack namespace (attribute com.docker.stack.namespace)."},
	{ID: NodeID, Name: "docker.node.id", Type: String, Display: "Swarm Node ID", Example: "q1w2e3r4t5y6",
		Desc: "Swarm node id (attribute com.docker.swarm.node.id)."},
	{ID: SwarmTask, Name: "docker.swarm.task", Type: String, Display: "Swarm Task",
		Desc: "Swarm task (attribute com.docker.swarm.task)."},
	{ID: SwarmTaskID, Name: "docker.swarm.taskid", Type: String, Display: "Swarm Task ID", Example: "x9y8z7",
		Desc: "Swarm task id (attribute com.docker.swarm.task.id)."},
	{ID: SwarmTaskName, Name: "docker.swarm.taskname", Type: String, Display: "Swarm Task Name", Example: "web.1.x9y8z7",
		Desc: "Swarm task name (attribute com.docker.swarm.task.name)."},
	{ID: SwarmServiceName, Name: "docker.swarm.servicename", Type: String, Display: "Swarm Service Name", Example: "web",
		Desc: "Swarm service name (attribute com.docker.swarm.service.name)."},
	{ID: NodeStateNew, Name: "docker.node.statenew", Type: String, Display: "Node New State", Example: "ready",
		Desc: "New state of a swarm node (attribute state.new of node update events)."},
	{ID: NodeStateOld, Name: "docker.node.stateold", Type: String, Display: "Node Old State", Example: "down",
		Desc: "Previous state of a swarm node (attribute state.old of node update events)."},
	{ID: AttrContainer, Name: "docker.attributes.container", Type: String, Display: "Attribute Container", Example: "e327f1fa52a9...",
		Desc: "Attribute container: the container id of network connect/disconnect and volume mount/unmount events."},
	{ID: AttrImage, Name: "docker.attributes.image", Type: String, Display: "Attribute Image", Example: "alpine:3.20",
		Desc: "Attribute image: the image of container events."},
	{ID: AttrName, Name: "docker.attributes.name", Type: String, Display: "Attribute Name", Example: "confident_kirch", Properties: []string{"addOutput"},
		Desc: "Attribute name: the name of the container, network, image reference, plugin... the event is about."},
	{ID: AttrType, Name: "docker.attributes.type", Type: String, Display: "Attribute Type", Example: "bridge",
		Desc: "Attribute type: the network driver of network events."},
	{ID: AttrExitCode, Name: "docker.attributes.exitcode", Type: String, Display: "Attribute Exit Code", Example: "137",
		Desc: "Exit code of die and exec_die container events, as a string: attribute exitCode (Podman's containerExitCode as fallback; Podman's containerExitCode on other events is no exit code)."},
	{ID: AttrSignal, Name: "docker.attributes.signal", Type: String, Display: "Attribute Signal", Example: "9",
		Desc: "Attribute signal of kill events, as sent (a signal number)."},
	{ID: Scope, Name: "docker.scope", Type: String, Display: "Scope", Example: "local",
		Desc: "Scope of the event: local (this daemon) or swarm (cluster-wide)."},
	{ID: ActorID, Name: "docker.actor.id", Type: String, Display: "Actor ID", Example: "e327f1fa52a9...", Properties: []string{"addOutput"},
		Desc: "Actor.ID: the id of the container, image, network, volume, plugin... the event is about; no value when empty (image prune; Podman's volume and pull events)."},

	// Additions.
	{ID: Time, Name: "docker.time", Type: AbsTime, Display: "Event Time", Example: "2024-05-01T10:58:56.370816183Z",
		Desc: "Time the daemon recorded the event (timeNano, or time in seconds)."},
	{ID: Attributes, Name: "docker.attributes", Type: String, Display: "Attribute", ArgRequired: true, ArgIsKey: true, Example: "docker.attributes[com.docker.compose.project] = shop",
		Desc: "Any actor attribute by key, e.g. docker.attributes[com.docker.compose.project]; container labels are attributes of container events. Keys are case-sensitive."},
	{ID: ActionName, Name: "docker.action.name", Type: String, Display: "Action Name", Example: "exec_create",
		Desc: "The bare action, without the arguments Docker appends after ': ' (exec_create for exec_create: sh -c id, health_status for health_status: unhealthy)."},
	{ID: ActionArgs, Name: "docker.action.args", Type: String, Display: "Action Arguments", Example: "sh -c id",
		Desc: "The argument part of the action, after ': ' (the command of exec_create/exec_start, the status of health_status, Podman's from its HealthStatus member); no value when the action has none."},
	{ID: ExecCmdline, Name: "docker.exec.cmdline", Type: String, Display: "Exec Command Line", Example: "sh -c id",
		Desc: "Command line of exec_create and exec_start container events (from the action; the trailing space the daemon appends when there are no arguments is removed, so `docker exec c sh` gives sh). Podman's exec does not say it: the live source looks it up (the exec's process config) where it can tell which exec the event is about, else no value."},
	{ID: ExecID, Name: "docker.exec.id", Type: String, Display: "Exec ID", Example: "5f8c...",
		Desc: "Exec instance id of exec_create, exec_start and exec_die container events (attribute execID; for Podman's exec, which has none, the one the live source looked up with its command)."},
	{ID: ContainerID, Name: "docker.container.id", Type: String, Display: "Container ID", Example: "e327f1fa52a9...",
		Desc: "Container id: Actor.ID of container events, attribute container of Docker's network and volume events, Actor.ID of Podman's network events (which are about the container)."},
	{ID: ContainerName, Name: "docker.container.name", Type: String, Display: "Container Name", Example: "confident_kirch",
		Desc: "Container name of container events (attribute name)."},
	{ID: ContainerImage, Name: "docker.container.image", Type: String, Display: "Container Image", Example: "alpine:3.20",
		Desc: "Image of the container, for container events (attribute image)."},
	{ID: ContainerExitCode, Name: "docker.container.exitcode", Type: Uint64, Display: "Exit Code", Example: "137",
		Desc: "Exit code of die and exec_die container events (of the exec for exec_die), as a number (attribute exitCode, Podman's containerExitCode as fallback)."},
	{ID: ContainerSignal, Name: "docker.container.signal", Type: String, Display: "Signal", Example: "9",
		Desc: "Signal of kill container events, as the daemon sent it (a signal number, e.g. 9 for SIGKILL). Podman sends none."},
	{ID: ImageName, Name: "docker.image.name", Type: String, Display: "Image Name", Example: "registry.example.com/team/app",
		Desc: "Image events: the image repository, without tag or digest, from the reference the event names (never from an image id or an archive path)."},
	{ID: ImageTag, Name: "docker.image.tag", Type: String, Display: "Image Tag", Example: "1.4.2",
		Desc: "Image events: the tag of the image reference, when the event names one."},
	{ID: NetworkID, Name: "docker.network.id", Type: String, Display: "Network ID", Example: "5864a44bccca...",
		Desc: "Network id of network events (Actor.ID). Podman's network events name no network: no value."},
	{ID: NetworkName, Name: "docker.network.name", Type: String, Display: "Network Name", Example: "bridge",
		Desc: "Network name of network events (attribute name; Podman: attribute network, which Podman 4 does not send)."},
	{ID: NetworkDriver, Name: "docker.network.driver", Type: String, Display: "Network Driver", Example: "bridge",
		Desc: "Network driver of network events (attribute type)."},
	{ID: VolumeName, Name: "docker.volume.name", Type: String, Display: "Volume Name", Example: "pgdata",
		Desc: "Volume name of volume events (Actor.ID; Podman: attribute name)."},
	{ID: VolumeDriver, Name: "docker.volume.driver", Type: String, Display: "Volume Driver", Example: "local",
		Desc: "Volume driver of volume events (attribute driver)."},
	{ID: ExecExe, Name: "docker.exec.exe", Type: String, Display: "Exec Executable", Example: "/bin/bash",
		Desc: "First word of docker.exec.cmdline, as given (sh, /bin/bash): what the exec runs, for rules such as docker.exec.exe in (shell_binaries)."},
	{ID: Engine, Name: "docker.engine", Type: String, Display: "Engine", Example: "podman",
		Desc: "The engine dialect of the event: docker (Docker Engine) or podman (Podman's Docker-compatible API, told apart by the podId attribute it adds to every event)."},

	// The container's security context: what the container was started
	// with, as the live source read it from the engine (GET
	// /containers/{id}/json) and added to the payload (member
	// falco:container). Names as Falco's container plugin's container.*
	// fields, so that rules port. No value without the context.
	{ID: CtrPrivileged, Name: "docker.container.privileged", Type: Bool, Display: "Privileged", Example: "true",
		Desc: ctxDesc("The container runs privileged (--privileged: every capability, every host device, no seccomp or AppArmor confinement).")},
	{ID: CtrHostPID, Name: "docker.container.host_pid", Type: Bool, Display: "Host PID Namespace", Example: "true",
		Desc: ctxDesc("The container shares the host's PID namespace (--pid host).")},
	{ID: CtrHostNetwork, Name: "docker.container.host_network", Type: Bool, Display: "Host Network Namespace", Example: "false",
		Desc: ctxDesc("The container shares the host's network namespace (--network host).")},
	{ID: CtrHostIPC, Name: "docker.container.host_ipc", Type: Bool, Display: "Host IPC Namespace", Example: "false",
		Desc: ctxDesc("The container shares the host's IPC namespace (--ipc host). Podman 4 reports shareable for every container, host IPC included: there it is true only when it says host, else no value.")},
	{ID: CtrMounts, Name: "docker.container.mounts", Type: String, IsList: true, Display: "Mounts", Example: "/:/host:ro",
		Desc: ctxDesc("Every bind and volume mount of the container as source:destination:ro|rw (source: the host path; a volume's data directory on the host).")},
	{ID: CtrMountSource, Name: "docker.container.mount.source", Type: String, ArgRequired: true, ArgIsKey: true, ArgIsIndex: true, Display: "Mount Source", Example: "docker.container.mount.source[/var/run/docker.sock] = /run/docker.sock",
		Desc: ctxDesc("The host path mounted at a destination: docker.container.mount.source[/host]; the argument may be a glob (* matches any run of characters, / included; ? one) or an index (docker.container.mount.source[0], the first mount).")},
	{ID: CtrMountDest, Name: "docker.container.mount.dest", Type: String, ArgRequired: true, ArgIsKey: true, ArgIsIndex: true, Display: "Mount Destination", Example: "docker.container.mount.dest[/] = /host",
		Desc: ctxDesc("Where a host path is mounted in the container: docker.container.mount.dest[/var/run/docker.sock]; the argument may be a glob (docker.container.mount.dest[/run/user/*/docker.sock]) or an index.")},
	{ID: CtrMountSources, Name: "docker.container.mount.sources", Type: String, IsList: true, Display: "Mount Sources", Example: "/var/run/docker.sock",
		Desc: ctxDesc("The host paths of the container's bind and volume mounts, for rules that compare them with a list (docker.container.mount.sources intersects (sensitive_paths)).")},
	{ID: CtrCapAdd, Name: "docker.container.cap_add", Type: String, IsList: true, Display: "Capabilities Added", Example: "SYS_ADMIN",
		Desc: ctxDesc("Capabilities added (--cap-add), upper case without CAP_ (SYS_ADMIN; ALL as given). Podman lists what its capability set adds to its defaults.")},
	{ID: CtrCapDrop, Name: "docker.container.cap_drop", Type: String, IsList: true, Display: "Capabilities Dropped", Example: "NET_RAW",
		Desc: ctxDesc("Capabilities dropped (--cap-drop), upper case without CAP_.")},
	{ID: CtrSecurityOpt, Name: "docker.container.security_opt", Type: String, IsList: true, Display: "Security Options", Example: "seccomp=unconfined",
		Desc: ctxDesc("Security options (--security-opt) as the engine reports them: seccomp=unconfined, apparmor=unconfined, no-new-privileges, label=disable (Docker adds it to privileged containers). A seccomp profile the CLI inlined as JSON is shown as seccomp=profile:sha256:<first 12 hex digits of its digest>.")},
	{ID: CtrDevices, Name: "docker.container.devices", Type: String, IsList: true, Display: "Host Devices", Example: "/dev/fuse",
		Desc: ctxDesc("Host devices mapped into the container (--device), by their host path. A privileged container gets every device without listing them.")},
	{ID: CtrUser, Name: "docker.container.user", Type: String, Display: "Container User", Example: "1000:1000",
		Desc: ctxDesc("The user the container runs as, as configured (--user: a name or uid[:gid]); empty when none is configured (the image's default, often root).")},
	{ID: CtrReadonlyRootfs, Name: "docker.container.readonly_rootfs", Type: Bool, Display: "Read-only Root Filesystem", Example: "true",
		Desc: ctxDesc("The container's root filesystem is read-only (--read-only).")},
	{ID: CtrImageID, Name: "docker.container.image.id", Type: String, Display: "Container Image ID", Example: "sha256:4048db5d3672...",
		Desc: ctxDesc("Id of the image the container runs (sha256:...).")},
	{ID: CtrImageDigest, Name: "docker.container.image.digest", Type: String, Display: "Container Image Digest", Example: "sha256:77726ef6b57d...",
		Desc: ctxDesc("Repository digest of the container's image: from the reference it was run by (image@sha256:...), else the image's repository digest of the same repository; no value for an image that has none (built or imported locally and never pushed or pulled).")},
	{ID: CtrCmdline, Name: "docker.container.cmdline", Type: String, Display: "Container Command Line", Example: "nginx -g daemon off;",
		Desc: ctxDesc("What the container runs: its entrypoint and command, joined by spaces.")},
}

// ctxDesc completes the description of a container context field.
func ctxDesc(s string) string {
	return s + " From the container context the live source adds to every event of a container (container events, and network and volume events naming one); no value without it (a plain docker events recording, a container whose inspection failed)."
}

func init() {
	if len(Table) != numFields {
		panic(fmt.Sprintf("fields: table has %d entries, want %d", len(Table), numFields))
	}
	for i, f := range Table {
		if f.ID != i {
			panic(fmt.Sprintf("fields: %s has id %d at index %d", f.Name, f.ID, i))
		}
	}
}

// Sink receives extracted values. It must copy them before returning:
// they alias the parsed event. Adding nothing means "no value".
type Sink interface {
	String(s string)
	Uint64(v uint64)
	Bool(v bool)
}

// ErrUnknownField is returned for a field id outside the table.
type ErrUnknownField struct{ ID uint64 }

func (e ErrUnknownField) Error() string {
	return fmt.Sprintf("unknown field id %d (the plugin has %d fields)", e.ID, numFields)
}

// errMissingArg is returned for docker.attributes without [KEY].
var errMissingArg = fmt.Errorf("field docker.attributes requires an attribute key argument, e.g. docker.attributes[com.docker.compose.project]")

// errMissingMountArg is returned for docker.container.mount.* without [ARG].
var errMissingMountArg = fmt.Errorf("fields docker.container.mount.source and docker.container.mount.dest require a path (a glob) or index argument, e.g. docker.container.mount.source[/var/run/docker.sock]")

// Extract hands the value(s) of field id for e to out. arg is the key
// argument (docker.attributes[KEY]); argPresent tells whether one was given.
func Extract(id uint64, arg string, argPresent bool, e *event.Event, out Sink) error {
	switch id {
	case Status:
		putStr(out, e.Status())
	case ID:
		putStr(out, e.ID())
	case From:
		putStr(out, e.From())
	case EvtType:
		putStr(out, e.Type())
	case Action:
		putStr(out, e.Action())
	case StackNamespace:
		putStr(out, e.Value("com.docker.stack.namespace"))
	case NodeID:
		putStr(out, e.Value("com.docker.swarm.node.id"))
	case SwarmTask:
		putStr(out, e.Value("com.docker.swarm.task"))
	case SwarmTaskID:
		putStr(out, e.Value("com.docker.swarm.task.id"))
	case SwarmTaskName:
		putStr(out, e.Value("com.docker.swarm.task.name"))
	case SwarmServiceName:
		putStr(out, e.Value("com.docker.swarm.service.name"))
	case NodeStateNew:
		putStr(out, e.Value("state.new"))
	case NodeStateOld:
		putStr(out, e.Value("state.old"))
	case AttrContainer:
		putStr(out, e.Value("container"))
	case AttrImage:
		putStr(out, e.Value("image"))
	case AttrName:
		putStr(out, e.Value("name"))
	case AttrType:
		putStr(out, e.Value("type"))
	case AttrExitCode:
		putStr(out, e.ExitCode())
	case AttrSignal:
		putStr(out, e.Value("signal"))
	case Scope:
		putStr(out, e.Scope())
	case ActorID:
		putStr(out, e.ActorID())
	case Time:
		if ns, ok := e.TimeNano(); ok {
			out.Uint64(ns)
		}
	case Attributes:
		if !argPresent || arg == "" {
			return errMissingArg
		}
		putStr(out, e.Attr(arg))
	case ActionName:
		putStr(out, e.ActionName())
	case ActionArgs:
		putStr(out, e.ActionArgs())
	case ExecCmdline:
		putStr(out, execCmdline(e))
	case ExecID:
		if e.Is("container") {
			v := e.Value("execID")
			if !v.OK {
				v = e.ContextExecID() // Podman's exec, looked up by the live source
			}
			putStr(out, v)
		}
	case ContainerID:
		putStr(out, e.ContainerID())
	case ContainerName:
		if e.Is("container") {
			putStr(out, e.Value("name"))
		}
	case ContainerImage:
		if e.Is("container") {
			putStr(out, e.Value("image"))
		}
	case ContainerExitCode:
		if v := e.ExitCode(); v.OK {
			if n, err := strconv.ParseUint(strings.TrimSpace(v.S), 10, 64); err == nil {
				out.Uint64(n)
			} else if n, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64); err == nil {
				// A negative code (a daemon-side failure, e.g. -1) wraps
				// like Falco's own uint64 conversions; keep it visible.
				out.Uint64(uint64(n))
			}
		}
	case ContainerSignal:
		if e.Is("container") {
			putStr(out, e.Value("signal"))
		}
	case ImageName:
		if ref, ok := e.ImageRef(); ok {
			out.String(RefName(ref))
		}
	case ImageTag:
		if ref, ok := e.ImageRef(); ok {
			if tag := RefTag(ref); tag != "" {
				out.String(tag)
			}
		}
	case NetworkID:
		putStr(out, e.NetworkID())
	case NetworkName:
		putStr(out, e.NetworkName())
	case NetworkDriver:
		if e.Is("network") {
			putStr(out, e.Value("type"))
		}
	case VolumeName:
		putStr(out, e.VolumeName())
	case VolumeDriver:
		if e.Is("volume") {
			putStr(out, e.Value("driver"))
		}
	case ExecExe:
		if args := execCmdline(e); args.OK {
			exe, _, _ := strings.Cut(strings.TrimLeft(args.S, " "), " ")
			putStr(out, event.Str{S: exe, OK: exe != ""})
		}
	case Engine:
		if e.Valid() {
			out.String(e.Dialect().String())
		}
	case CtrPrivileged, CtrHostPID, CtrHostNetwork, CtrHostIPC, CtrMounts, CtrMountSource, CtrMountDest, CtrMountSources,
		CtrCapAdd, CtrCapDrop, CtrSecurityOpt, CtrDevices, CtrUser, CtrReadonlyRootfs, CtrImageID, CtrImageDigest, CtrCmdline:
		return extractContext(id, arg, argPresent, e, out)
	default:
		return ErrUnknownField{ID: id}
	}
	return nil
}

func putStr(out Sink, v event.Str) {
	if v.OK {
		out.String(v.S)
	}
}

// execCmdline is the command of exec_create and exec_start container
// events, from the action; Podman's exec does not say it: then from the
// exec's process config, when the live source could look it up (the
// payload's container member).
func execCmdline(e *event.Event) event.Str {
	if n := e.ActionName(); e.Is("container") && n.OK && (n.S == "exec_create" || n.S == "exec_start") {
		if a := e.ActionArgs(); a.OK {
			return a
		}
		return e.ContextExecCmdline()
	}
	return event.Str{}
}

// RefName returns the repository part of an image reference: without
// @digest and without :tag (a colon inside the registry host:port part is
// not a tag separator).
func RefName(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i+1:], "/") {
		ref = ref[:i]
	}
	return ref
}

// RefTag returns the tag of an image reference, or "" when it has none.
func RefTag(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i+1:], "/") {
		return ref[i+1:]
	}
	return ""
}
