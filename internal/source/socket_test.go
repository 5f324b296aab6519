package source

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestIsSocket: plugin_list_open_params lists the candidate paths for which
// isSocket holds, so it must hold for a listening unix socket and for
// nothing else that may sit at such a path.
func TestIsSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "sk") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	file := filepath.Join(dir, "file.sock")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.sock") // a symlink to a socket is a socket (os.Stat follows it)
	if err := os.Symlink(sock, link); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		sock: true, link: true, file: false, dir: false, filepath.Join(dir, "absent.sock"): false,
	} {
		if got := isSocket(path); got != want {
			t.Errorf("isSocket(%s) = %v, want %v", filepath.Base(path), got, want)
		}
	}
}
