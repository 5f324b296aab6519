package source

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/docker/docker/client"
)

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// dialTimeout bounds one TCP connection attempt.
const dialTimeout = 10 * time.Second

// loopbackOnly wraps dial so that a connection whose peer is not a loopback
// address is closed and refused. A plaintext (or unverified TLS) endpoint
// is accepted only because it names a loopback address; for a name
// ("localhost"), /etc/hosts or a resolver decide where it really goes, so
// the check is on the connected peer, not on the name.
func loopbackOnly(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
			peer := c.RemoteAddr().String()
			c.Close()
			return nil, fmt.Errorf("%s connected to %s, which is not a loopback address: plaintext or unverified TLS is only accepted to loopback (set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or init config allowInsecureTcp: true)", addr, peer)
		}
		return c, nil
	}
}

// withLoopbackOnly makes the client's transport connect only to loopback
// peers, and never through a proxy (HTTP_PROXY would make the connected
// peer the proxy). Applied after client.WithHost, which sets the dialer.
func withLoopbackOnly() client.Opt {
	return func(c *client.Client) error {
		tr, ok := c.HTTPClient().Transport.(*http.Transport)
		if !ok {
			return fmt.Errorf("cannot restrict the docker client to loopback: transport %T", c.HTTPClient().Transport)
		}
		d := &net.Dialer{Timeout: dialTimeout}
		tr.DialContext = loopbackOnly(d.DialContext)
		tr.Proxy = nil
		return nil
	}
}
