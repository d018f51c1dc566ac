package cloud

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildFunctions compiles every functions/<name> into
// dir/<name>/bootstrap for this machine, exactly as `make functions` does,
// so tests need no separate build step.
func BuildFunctions(ctx context.Context, root, dir string) error {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return fmt.Errorf("build functions: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		out := filepath.Join(dir, e.Name(), "bootstrap")
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./functions/"+e.Name())
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build functions/%s: %w\n%s", e.Name(), err, b)
		}
	}
	return nil
}
