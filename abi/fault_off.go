//go:build !faultinject

package abi

// faultpoint marks an entry point where the faultinject test build can
// inject a panic (see fault_on.go). In normal builds it is empty and inlined
// away.
func faultpoint(string) {}
