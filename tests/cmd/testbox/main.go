// Command testbox is the only program in the test image the Docker
// integration tests build (FROM scratch: no registry is reachable). It is
// installed as /testbox and /bin/sh, so `docker exec c sh -c id` is a real
// shell-shaped exec.
//
//	testbox [sleep]     sleep until SIGTERM/SIGINT (the container's default)
//	testbox exit N      exit with status N
//	testbox alloc       allocate memory until the kernel's OOM killer ends it
//	sh -c CMD           print CMD and exit 0 (a stand-in for a shell);
//	sh -c 'exit N'      exit with status N
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"sleep"}
	}
	switch args[0] {
	case "sleep":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		<-c
	case "exit":
		code := 0
		if len(args) > 1 {
			code, _ = strconv.Atoi(args[1])
		}
		os.Exit(code)
	case "alloc":
		var keep [][]byte
		for {
			b := make([]byte, 4<<20)
			for i := range b {
				b[i] = byte(i)
			}
			keep = append(keep, b)
			time.Sleep(time.Millisecond)
		}
	case "-c":
		if len(args) > 1 {
			if n, ok := strings.CutPrefix(args[1], "exit "); ok {
				code, _ := strconv.Atoi(n)
				os.Exit(code)
			}
		}
		fmt.Println("testbox:", args[1:])
	default:
		fmt.Fprintln(os.Stderr, "testbox: unknown command", args)
		os.Exit(2)
	}
}
