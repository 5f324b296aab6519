// Package container gives the live source what a container was started
// with: it inspects containers through the docker client (once per
// container: when it is created, or when the plugin connects and finds it),
// keeps their security contexts in a bounded per-instance cache, and adds
// the context to every event of the container, as the payload member
// event.ContainerMember, without ever holding the daemon's stream and
// without reordering it (Enricher). Extraction reads only the payload
// (internal/event), so Falco's capture files and the plugin's recordings
// replay with the same values.
package container

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	dcontainer "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/falco-docker/docker-plugin/internal/event"
)

// FromInspect is the security context of a container as GET
// /containers/{id}/json describes it. podman is Podman's compatible API,
// whose IpcMode says shareable for every container, host IPC included: there
// only host is believed, and anything else is unknown.
func FromInspect(r *dcontainer.InspectResponse, digest string, podman bool) event.Context {
	var c event.Context
	if r.ContainerJSONBase != nil {
		c.ID = r.ID
		c.ImageID = r.Image
		if r.Path != "" {
			c.Cmdline = strings.Join(append([]string{r.Path}, r.Args...), " ")
		}
		if hc := r.HostConfig; hc != nil {
			c.Privileged = event.FlagOf(hc.Privileged)
			c.HostPID = event.FlagOf(hc.PidMode.IsHost())
			c.HostNetwork = event.FlagOf(hc.NetworkMode.IsHost())
			switch {
			case hc.IpcMode.IsHost():
				c.HostIPC = event.FlagTrue
			case !podman:
				c.HostIPC = event.FlagFalse
			}
			c.ReadonlyRootfs = event.FlagOf(hc.ReadonlyRootfs)
			c.CapAdd = capabilities(hc.CapAdd)
			c.CapDrop = capabilities(hc.CapDrop)
			c.SecurityOpt = make([]string, 0, len(hc.SecurityOpt))
			for _, o := range hc.SecurityOpt {
				c.SecurityOpt = append(c.SecurityOpt, securityOpt(o))
			}
			c.Devices = make([]string, 0, len(hc.Devices))
			for _, d := range hc.Devices {
				c.Devices = append(c.Devices, d.PathOnHost)
			}
		}
	}
	if r.Config != nil {
		u := r.Config.User
		c.User = &u
	}
	c.Mounts = make([]event.Mount, 0, len(r.Mounts))
	for _, m := range r.Mounts {
		if m.Type != mount.TypeBind && m.Type != mount.TypeVolume {
			continue // tmpfs, npipe, cluster: no host path
		}
		c.Mounts = append(c.Mounts, event.Mount{Type: string(m.Type), Source: m.Source, Destination: m.Destination, RW: event.FlagOf(m.RW)})
	}
	c.ImageDigest = digest
	return c
}

// capabilities spells capabilities one way whatever the engine stored:
// upper case, without CAP_ (Docker keeps CAP_SYS_ADMIN since API 1.40,
// Podman SYS_ADMIN; the CLI takes either, in any case). ALL stays ALL.
func capabilities(in []string) []string {
	out := make([]string, 0, len(in))
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		out = append(out, strings.TrimPrefix(c, "CAP_"))
	}
	return out
}

// securityOpt is a security option as the field shows it. The docker CLI
// replaces seccomp=<file> with the file's JSON content: such a profile (tens
// of KiB, repeated in every event of the container) is shown by its digest.
func securityOpt(o string) string {
	for _, p := range []string{"seccomp=", "seccomp:"} {
		if rest, ok := strings.CutPrefix(o, p); ok && strings.HasPrefix(strings.TrimSpace(rest), "{") {
			sum := sha256.Sum256([]byte(rest))
			return "seccomp=profile:sha256:" + hex.EncodeToString(sum[:6])
		}
	}
	return o
}

// repoDigest picks the digest of a container's image: from the reference
// the container was created with when it names one (app@sha256:...), else
// the image's repository digest of the same repository, else none.
func repoDigest(ref string, repoDigests []string) string {
	name := ref
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		return ref[i+1:]
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i+1:], "/") {
		name = name[:i]
	}
	for _, d := range repoDigests {
		repo, dg, ok := strings.Cut(d, "@")
		if ok && (repo == name || normalizedRepo(repo) == normalizedRepo(name)) {
			return dg
		}
	}
	return ""
}

// normalizedRepo expands Docker Hub's short names (alpine, library/alpine,
// docker.io/library/alpine are one repository).
func normalizedRepo(r string) string {
	first, _, hasSlash := strings.Cut(r, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		r = "docker.io/" + r
	}
	if strings.Count(r, "/") == 1 && strings.HasPrefix(r, "docker.io/") {
		r = "docker.io/library/" + strings.TrimPrefix(r, "docker.io/")
	}
	return r
}
