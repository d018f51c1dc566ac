//go:build unix

package main

import "syscall"

// execReplace replaces jit with the command, so the command's exit code,
// signals and terminal are its own.
func execReplace(path string, argv, env []string) error {
	return syscall.Exec(path, argv, env)
}
