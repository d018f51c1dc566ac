//go:build linux

package moto

import "syscall"

// sysProcAttr puts moto in its own process group (so Stop can signal moto
// and anything it spawned) and asks the kernel to SIGTERM it if this
// process dies first, so a crashed test or local cloud leaves no orphan.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
