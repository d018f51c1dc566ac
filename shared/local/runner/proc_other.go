//go:build !unix

package runner

import (
	"errors"
	"os"
	"os/exec"
)

func setProcessGroup(*exec.Cmd) {}

func killGroup(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// terminateGroup kills: there is no SIGTERM to send here.
func terminateGroup(p *os.Process) error { return killGroup(p) }
