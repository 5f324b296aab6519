//go:build faultinject

package abi

/*
#include <stdint.h>
*/
import "C"

import (
	"sync"
)

// This file is compiled only with -tags faultinject, into the test-only
// libdocker-faults.so the harness uses to prove panic containment: it
// exports docker_test_set_fault, and faultpoint panics at the entry point
// named there.

var (
	faultMu sync.Mutex
	faultAt string
)

//export docker_test_set_fault
func docker_test_set_fault(point *C.char) {
	faultMu.Lock()
	faultAt = C.GoString(point)
	faultMu.Unlock()
}

func faultpoint(name string) {
	faultMu.Lock()
	hit := faultAt == name
	faultMu.Unlock()
	if hit {
		panic("injected fault at " + name)
	}
}
