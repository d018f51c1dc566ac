//go:build !unix

package moto

import (
	"errors"
	"syscall"
)

const (
	sigTerm = syscall.Signal(15)
	sigKill = syscall.Signal(9)
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// signalGroup is not supported: the local cloud runs on Linux and macOS.
func signalGroup(int, syscall.Signal) error {
	return errors.New("stopping moto is only supported on unix")
}
