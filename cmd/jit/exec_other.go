//go:build !unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// execReplace runs the command and exits with its exit code (there is no
// exec(2) here). Interrupts go to the command, which shares the console.
func execReplace(path string, argv, env []string) error {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(os.Interrupt)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return outcome(ee.ExitCode())
	}
	if err != nil {
		return err
	}
	return outcome(exitOK)
}
