package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// binaries are every function built twice with the deploy flags
// (Makefile GOFLAGS_LAMBDA): for AWS (linux/arm64) and for this machine,
// which is what the local cloud runs.
type binaries struct {
	names    []string
	arm64Dir string
	hostDir  string
	hostArch string
}

// lambdaFlags are the Makefile's GOFLAGS_LAMBDA.
var lambdaFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

func buildAll(ctx context.Context, root, tmp string) (*binaries, error) {
	start := time.Now()
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("build functions: %w", err)
	}
	b := &binaries{
		arm64Dir: filepath.Join(tmp, "linux-arm64"),
		hostDir:  filepath.Join(tmp, "host"),
		hostArch: runtime.GOOS + "/" + runtime.GOARCH,
	}
	for _, e := range entries {
		if e.IsDir() {
			b.names = append(b.names, e.Name())
		}
	}
	// One go build per target builds every function at once (packages
	// compile in parallel), into flat/<name>; each then moves to
	// <name>/bootstrap, the layout the local cloud and SAM expect.
	for _, target := range []struct{ dir, goos, goarch string }{
		{b.hostDir, runtime.GOOS, runtime.GOARCH},
		{b.arm64Dir, "linux", "arm64"},
	} {
		flat := target.dir + ".flat"
		args := append([]string{"build"}, lambdaFlags...)
		args = append(args, "-o", flat+string(os.PathSeparator))
		for _, name := range b.names {
			args = append(args, "./functions/"+name)
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+target.goos, "GOARCH="+target.goarch)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build functions for %s/%s: %w\n%s", target.goos, target.goarch, err, out)
		}
		for _, name := range b.names {
			if err := os.MkdirAll(filepath.Join(target.dir, name), 0o755); err != nil {
				return nil, err
			}
			if err := os.Rename(filepath.Join(flat, name), filepath.Join(target.dir, name, "bootstrap")); err != nil {
				return nil, fmt.Errorf("build functions/%s for %s/%s: %w", name, target.goos, target.goarch, err)
			}
		}
	}
	res.Setup.BuildSeconds = round3(time.Since(start).Seconds())
	return b, nil
}
