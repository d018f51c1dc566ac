// Package testenv is what the project's test binaries share to reach the
// local cloud's emulator: where the repository and its virtualenv are,
// one way to start moto for a test, and the -short rule.
//
// Under -short (`go test -short ./...`) nothing that needs the emulator
// runs: tests that would start moto skip, and test binaries whose every
// test needs the local cloud exit at once from TestMain, so a machine
// without the virtualenv can run every pure test. Without -short a
// missing virtualenv is a failure that says how to create it, never a
// silent skip.
//
// It must not provision resources or start functions: package cloud
// (StartForTests) brings up the whole local cloud.
package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/local/moto"
)

// Root returns the repository root: the nearest directory above the
// working directory (a test's package directory) that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// MotoBin returns the virtualenv's bin directory with moto_server in it,
// or an error saying how to create it.
func MotoBin() (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".venv", "moto", "bin")
	if _, err := os.Stat(filepath.Join(bin, "moto_server")); err != nil {
		return "", fmt.Errorf("these tests need the moto emulator, which is not installed (%v); run `make venv` at the repository root, or `go test -short` to skip them", err)
	}
	return bin, nil
}

// SkipMain reports whether a test binary whose tests all need the local
// cloud should exit without running under -short; call it first in
// TestMain (it parses the flags). what names the tests in the message.
func SkipMain(what string) bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		fmt.Printf("%s need the local cloud: skipped under -short\n", what)
		return true
	}
	return false
}

// StartMoto starts a moto server for one test and stops it when the test
// ends. Under -short the test is skipped.
func StartMoto(t testing.TB) *moto.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the moto emulator: skipped under -short")
	}
	bin, err := MotoBin()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := moto.Start(ctx, moto.Options{Python: bin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("start moto: %v (run `make venv` if the virtualenv is missing or outdated)", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}
