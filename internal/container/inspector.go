package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	dcontainer "github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/falco-docker/docker-plugin/internal/event"
)

// Inspector reads what the Enricher needs from the daemon. Each call is
// bounded by its context.
type Inspector interface {
	// Inspect returns the security context of container id; an error
	// satisfying IsNotFound when the container does not exist (any more).
	Inspect(ctx context.Context, id string) (event.Context, error)
	// ExecSessions lists the exec instances of container id (Podman's
	// compatible API lists them in ExecIDs).
	ExecSessions(ctx context.Context, id string) ([]string, error)
	// ExecCmdline is the command line of exec instance id (its process
	// config: entrypoint and arguments).
	ExecCmdline(ctx context.Context, id string) (string, error)
	// List returns the ids of every container, running or not, newest
	// first (at most limit).
	List(ctx context.Context, limit int) ([]string, error)
}

// ErrNotFound: the container (or exec instance) does not exist.
var ErrNotFound = errors.New("not found")

// IsNotFound reports whether err says the object is gone: ErrNotFound, or
// the docker client's error for a 404 (containerd's errdefs, which the
// client uses).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) || cerrdefs.IsNotFound(err) }

// maxResponse bounds what one inspection answer may hold: a container's
// inspect document is a few KiB (tens with an inlined seccomp profile or
// large labels); a daemon that sends more is refused, not buffered.
const maxResponse = 8 << 20

// imageCacheSize bounds the image digests the inspector remembers.
const imageCacheSize = 256

// Docker is the Inspector of a daemon the docker client reaches (Docker
// Engine, or Podman's compatible API; podman says which).
type Docker struct {
	cli    *client.Client
	podman bool
	// get performs a GET of an API path (under the negotiated version) for
	// what the docker client has no call for (the exec's process config).
	get func(ctx context.Context, path string) (*http.Response, error)

	mu     sync.Mutex
	images map[string]string // image id -> digest ("" for none)
}

// NewDocker returns an Inspector using cli (built with the negotiated API
// version, ClientOpt last among its options) and get for
// raw GETs.
func NewDocker(cli *client.Client, podman bool, get func(ctx context.Context, path string) (*http.Response, error)) *Docker {
	return &Docker{cli: cli, podman: podman, get: get, images: map[string]string{}}
}

// Close releases the client's idle connections.
func (d *Docker) Close() error { return d.cli.Close() }

// Inspect implements Inspector: the container's inspect document, and the
// repository digest of its image (remembered per image id).
func (d *Docker) Inspect(ctx context.Context, id string) (event.Context, error) {
	r, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return event.Context{}, err
	}
	if r.ContainerJSONBase == nil || r.ID == "" {
		return event.Context{}, fmt.Errorf("inspect %s: the answer names no container", short(id))
	}
	var ref string
	if r.Config != nil {
		ref = r.Config.Image
	}
	return FromInspect(&r, d.digest(ctx, r.Image, ref), d.podman), nil
}

// digest is the repository digest of image imageID run as ref; "" when it
// has none or the image cannot be inspected (the context goes without it).
func (d *Docker) digest(ctx context.Context, imageID, ref string) string {
	if strings.Contains(ref, "@") {
		return repoDigest(ref, nil)
	}
	if imageID == "" {
		return ""
	}
	d.mu.Lock()
	dg, ok := d.images[imageID+" "+ref]
	d.mu.Unlock()
	if ok {
		return dg
	}
	img, err := d.cli.ImageInspect(ctx, imageID)
	if err != nil {
		return ""
	}
	dg = repoDigest(ref, img.RepoDigests)
	d.mu.Lock()
	if len(d.images) >= imageCacheSize {
		clear(d.images)
	}
	d.images[imageID+" "+ref] = dg
	d.mu.Unlock()
	return dg
}

// ExecSessions implements Inspector.
func (d *Docker) ExecSessions(ctx context.Context, id string) ([]string, error) {
	r, err := d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.ContainerJSONBase == nil {
		return nil, nil
	}
	return r.ExecIDs, nil
}

// ExecCmdline implements Inspector: GET /exec/{id}/json's ProcessConfig
// (the docker client's ContainerExecInspect leaves it out).
func (d *Docker) ExecCmdline(ctx context.Context, id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "/?#%") {
		return "", fmt.Errorf("exec id %q", short(id))
	}
	resp, err := d.get(ctx, "/exec/"+id+"/json")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", ErrNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("exec inspect: %s", resp.Status)
	}
	var x struct {
		ProcessConfig struct {
			Entrypoint string   `json:"entrypoint"`
			Arguments  []string `json:"arguments"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&x); err != nil {
		return "", fmt.Errorf("exec inspect: %w", err)
	}
	if x.ProcessConfig.Entrypoint == "" {
		return "", nil
	}
	return strings.Join(append([]string{x.ProcessConfig.Entrypoint}, x.ProcessConfig.Arguments...), " "), nil
}

// List implements Inspector.
func (d *Docker) List(ctx context.Context, limit int) ([]string, error) {
	cs, err := d.cli.ContainerList(ctx, dcontainer.ListOptions{All: true, Limit: limit})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.ID != "" {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// ClientOpt is the docker client option of an inspector's client (last
// among them: it changes the transport the others configured):
//   - answers larger than maxResponse are refused: the client decodes whole
//     documents into memory, and a daemon that lies must not make the
//     plugin buffer gigabytes;
//   - no connection is kept between calls: inspections are a few calls per
//     new container, and an idle connection would outlive the instance
//     (one returned to the pool just after Close would linger with its
//     goroutines).
func ClientOpt() client.Opt {
	return func(c *client.Client) error {
		hc := c.HTTPClient() // a copy sharing the configured transport
		if hc.Transport == nil {
			hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
		}
		if tr, ok := hc.Transport.(*http.Transport); ok {
			tr.DisableKeepAlives = true
		}
		hc.Transport = limitTransport{hc.Transport}
		return client.WithHTTPClient(hc)(c)
	}
}

type limitTransport struct{ rt http.RoundTripper }

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxResponse}
	return resp, nil
}

// limitedBody fails a read beyond its limit (a truncated document would
// decode as a wrong one).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errTooLarge = fmt.Errorf("daemon answer larger than %d MiB: refused", maxResponse>>20)

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a document of exactly the limit from a
		// larger one.
		var one [1]byte
		for {
			n, err := b.rc.Read(one[:])
			if n > 0 {
				return 0, errTooLarge
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
