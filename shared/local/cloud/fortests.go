package cloud

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// StartForTests builds the functions into a temporary folder and starts a
// local cloud on free ports with the given policy (relative to root), for
// a test binary's TestMain. JIT_E2E_VERBOSE=1 shows the functions' and
// the emulator's output; JIT_LAX_DYNAMODB=1 turns the edge's DynamoDB
// request checks off. stop closes the cloud and removes the build.
func StartForTests(root, policy string) (c *Cloud, stop func(), err error) {
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build, err := os.MkdirTemp("", "jit-test-functions-")
	if err != nil {
		return nil, nil, err
	}
	if err := BuildFunctions(ctx, root, build); err != nil {
		os.RemoveAll(build)
		return nil, nil, err
	}
	var out io.Writer = io.Discard
	if os.Getenv("JIT_E2E_VERBOSE") != "" {
		out = os.Stderr
	}
	c, err = Start(ctx, Options{
		Root: root, BuildDir: build, Policy: filepath.Join(root, policy),
		Output: out, Logger: slog.New(slog.NewTextHandler(out, nil)),
		LaxDynamoDB: os.Getenv("JIT_LAX_DYNAMODB") != "",
	})
	if err != nil {
		os.RemoveAll(build)
		return nil, nil, fmt.Errorf("start local cloud: %w\n(run `make venv` if moto is missing)", err)
	}
	return c, func() { c.Close(); os.RemoveAll(build) }, nil
}
