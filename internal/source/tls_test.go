package source

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falco-docker/docker-plugin/internal/config"
	"github.com/falco-docker/docker-plugin/internal/source/sourcetest"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial int64

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a certificate for the loopback names (server) or a client.
func (ca *testCA) issue(t *testing.T, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.Subject.CommonName = "localhost"
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// serverTLS is a daemon's TLS setup: a certificate from ca, client
// certificates required and verified against clientCA (as dockerd
// --tlsverify does).
func serverTLS(t *testing.T, ca, clientCA *testCA) *tls.Config {
	t.Helper()
	c, k := ca.issue(t, true)
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
}

// certDir writes ca.pem (ca), and cert.pem/key.pem (issued by clientCA):
// a DOCKER_CERT_PATH directory.
func certDir(t *testing.T, ca, clientCA *testCA) string {
	t.Helper()
	dir := t.TempDir()
	c, k := clientCA.issue(t, false)
	for name, data := range map[string][]byte{"ca.pem": ca.pem, "cert.pem": c, "key.pem": k} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLiveTLS: the TLS rules against daemons with their own CA, made in the
// test. Verification is on exactly when DOCKER_TLS_VERIFY says so; off, TLS
// counts as insecure (loopback only unless allowInsecureTcp, and always
// with a warning). These fail if the plugin skips verification, or sends
// plain HTTP to a TLS daemon.
func TestLiveTLS(t *testing.T) {
	ours, foreign := newCA(t, "our CA"), newCA(t, "foreign CA")
	dir := certDir(t, ours, ours)
	verified := envMap(map[string]string{"DOCKER_CERT_PATH": dir, "DOCKER_TLS_VERIFY": "1"})
	unverified := envMap(map[string]string{"DOCKER_CERT_PATH": dir})
	event := msg("start", "tls", uint64(time.Now().UnixNano()))

	t.Run("verified TLS delivers events", func(t *testing.T) {
		d := sourcetest.NewTCP(t, "1.41", serverTLS(t, ours, ours))
		env := newLiveEnv(func(c *config.Config) { c.FailFast = true })
		l := openLiveT(t, d.Endpoint(), env.Env, verified)
		i := d.WaitConn(t)
		if r := d.Request(i); r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			t.Errorf("events request without TLS client certificate: %+v", r.TLS)
		}
		d.Send(event)
		if got := collect(t, l, 1); string(got.Events[0]) != event {
			t.Errorf("got %s", got.Events[0])
		}
		if strings.Contains(env.log.String(), "verification") {
			t.Errorf("a warning about verification with verification on:\n%s", env.log.String())
		}
	})

	t.Run("verified TLS refuses a certificate from another CA", func(t *testing.T) {
		d := sourcetest.NewTCP(t, "1.41", serverTLS(t, foreign, ours))
		env := newLiveEnv(func(c *config.Config) { c.FailFast = true })
		_, err := OpenLive(d.Endpoint(), env.Env, verified)
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Errorf("failFast open of a daemon with a foreign certificate: %v", err)
		}
		env = newLiveEnv(nil)
		openLiveT(t, d.Endpoint(), env.Env, verified)
		eventually(t, "the certificate error in the last error", func() bool {
			e := env.last.Get()
			return e != nil && strings.Contains(e.Error(), "unknown authority")
		})
		if n := d.Requests(); n != 0 {
			t.Errorf("%d events requests reached a daemon whose certificate failed verification", n)
		}
	})

	t.Run("unverified TLS is refused for a non-loopback address", func(t *testing.T) {
		env := newLiveEnv(nil)
		_, err := OpenLive("tcp://10.9.9.9:2376", env.Env, unverified)
		if err == nil || !strings.Contains(err.Error(), "without verifying") || !strings.Contains(err.Error(), "DOCKER_TLS_VERIFY") {
			t.Errorf("unverified TLS to a non-loopback address: %v", err)
		}
		env = newLiveEnv(func(c *config.Config) { c.AllowInsecureTCP = true })
		l, err := OpenLive("tcp://10.9.9.9:2376", env.Env, unverified)
		if err != nil {
			t.Fatalf("unverified TLS with allowInsecureTcp: %v", err)
		}
		l.Close()
		if !strings.Contains(env.log.String(), "warning: ") || !strings.Contains(env.log.String(), "without verifying") {
			t.Errorf("no warning for TLS without verification:\n%s", env.log.String())
		}
	})

	t.Run("unverified TLS on loopback works, with a warning", func(t *testing.T) {
		d := sourcetest.NewTCP(t, "1.41", serverTLS(t, foreign, ours))
		env := newLiveEnv(nil)
		l := openLiveT(t, d.Endpoint(), env.Env, unverified)
		d.WaitConn(t)
		d.Send(event)
		collect(t, l, 1)
		if !strings.Contains(env.log.String(), "without verifying") {
			t.Errorf("no warning for TLS without verification:\n%s", env.log.String())
		}
	})

	t.Run("plain HTTP to a TLS daemon fails clearly", func(t *testing.T) {
		d := sourcetest.NewTCP(t, "1.41", serverTLS(t, ours, ours))
		env := newLiveEnv(nil)
		openLiveT(t, d.Endpoint(), env.Env, noenv)
		eventually(t, "a clear error", func() bool {
			e := env.last.Get()
			return e != nil && strings.Contains(e.Error(), "HTTP request to an HTTPS server")
		})
		if n := d.Requests(); n != 0 {
			t.Errorf("%d events requests answered over plain HTTP", n)
		}
	})

	t.Run("TLS to a plain HTTP daemon fails clearly", func(t *testing.T) {
		d := sourcetest.NewTCP(t, "1.41", nil)
		env := newLiveEnv(nil)
		openLiveT(t, d.Endpoint(), env.Env, verified)
		eventually(t, "a clear error", func() bool {
			e := env.last.Get()
			return e != nil && strings.Contains(e.Error(), "HTTP response to HTTPS client")
		})
		if n := d.Requests(); n != 0 {
			t.Errorf("%d events requests sent without TLS although TLS is configured", n)
		}
	})
}

// TestResolveLiveTLSRules: which endpoint and TLS combinations are
// accepted, before any connection.
func TestResolveLiveTLSRules(t *testing.T) {
	for _, tc := range []struct {
		params   string
		env      map[string]string
		insecure bool
		verify   bool
		err      string
	}{
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_CERT_PATH": "/c", "DOCKER_TLS_VERIFY": "1"}, verify: true},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_CERT_PATH": "/c"}, err: "without verifying"},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_CERT_PATH": "/c"}, insecure: true},
		{params: "tcp://127.0.0.1:2376", env: map[string]string{"DOCKER_CERT_PATH": "/c"}},
		{params: "tcp://10.1.2.3:2376", env: map[string]string{"DOCKER_TLS_VERIFY": "1", "HOME": "/home/u"}, verify: true},
		// DOCKER_TLS_VERIFY without a certificate directory (no
		// DOCKER_CERT_PATH, no HOME for the ~/.docker default): the
		// operator asked for TLS; plaintext would be a silent downgrade.
		{params: "tcp://127.0.0.1:2376", env: map[string]string{"DOCKER_TLS_VERIFY": "1"}, err: "DOCKER_TLS_VERIFY is set"},
		{params: "", env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"}, err: "DOCKER_CERT_PATH"},
		// The plaintext refusal points at verified TLS, not at
		// DOCKER_CERT_PATH alone (which gives unverified TLS).
		{params: "tcp://10.1.2.3:2375", err: "DOCKER_TLS_VERIFY=1"},
	} {
		got, err := ResolveLive(tc.params, envMap(tc.env), tc.insecure)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveLive(%q, %v, insecure %v): err = %v, want %q", tc.params, tc.env, tc.insecure, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ResolveLive(%q, %v, insecure %v): %v", tc.params, tc.env, tc.insecure, err)
			continue
		}
		if !got.TLS || got.Verify != tc.verify {
			t.Errorf("ResolveLive(%q, %v) = %+v, want TLS with verify %v", tc.params, tc.env, got, tc.verify)
		}
	}
}

// TestLiveSchemeCase: TCP://127.0.0.1 passed the loopback check (which
// lower-cases the scheme) while the events request, comparing case-
// sensitively, went to http://api.moby.localhost/ (a proxy, a DNS search
// domain: another host's events). The scheme is normalised.
func TestLiveSchemeCase(t *testing.T) {
	d := sourcetest.NewTCP(t, "1.41", nil)
	for _, scheme := range []string{"TCP", "Tcp"} {
		env := newLiveEnv(nil)
		l := openLiveT(t, scheme+"://"+d.Addr, env.Env, noenv)
		i := d.WaitConn(t)
		if h := d.Request(i).Host; h != d.Addr {
			t.Errorf("%s: events request for host %q, want %q", scheme, h, d.Addr)
		}
		ev := msg("start", scheme, uint64(time.Now().UnixNano()))
		d.Send(ev)
		collect(t, l, 1)
		l.Close()
	}
	if got, err := ResolveLive("UNIX:///var/run/docker.sock", noenv, false); err != nil || got.Host != "unix:///var/run/docker.sock" {
		t.Errorf("UNIX:// = %+v, %v", got, err)
	}
}

// TestLoopbackOnlyDial: a plaintext (or unverified TLS) endpoint accepted
// because its name is loopback ("localhost") must really connect to a
// loopback address: /etc/hosts or a resolver could say otherwise. The
// check is on the connected peer.
func TestLoopbackOnlyDial(t *testing.T) {
	other := nonLoopbackIP(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(other.String(), "0"))
	if err != nil {
		t.Skipf("cannot listen on %s: %v", other, err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// A resolver that maps localhost elsewhere.
	hostile := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort(other.String(), port))
	}
	c, err := loopbackOnly(hostile)(context.Background(), "tcp", "localhost:"+port)
	if err == nil {
		c.Close()
		t.Fatalf("a connection to %s was accepted for a loopback-only endpoint", other)
	}
	if !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), other.String()) {
		t.Errorf("error %v: want it to name the address and say why", err)
	}
	// A real loopback peer is fine.
	lo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	var d net.Dialer
	c, err = loopbackOnly(d.DialContext)(context.Background(), "tcp", lo.Addr().String())
	if err != nil {
		t.Fatalf("loopback peer refused: %v", err)
	}
	c.Close()
	var ne net.Error
	_ = errors.As(err, &ne)
}

// nonLoopbackIP is an address of this host that is not loopback.
func nonLoopbackIP(t *testing.T) net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP
		}
	}
	t.Skip("this host has no non-loopback IPv4 address to test against")
	return nil
}
