//go:build linux

package moto

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const orphanHelperEnv = "JIT_MOTO_ORPHAN_HELPER"

// TestOrphanHelper is not a test on its own: TestParentDeathStopsMoto runs
// it in a child process that starts moto, prints its PID and exits without
// calling Stop.
func TestOrphanHelper(t *testing.T) {
	if os.Getenv(orphanHelperEnv) == "" {
		t.Skip("helper for TestParentDeathStopsMoto")
	}
	s, err := Start(context.Background(), Options{Python: os.Getenv(orphanHelperEnv)})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("PID", s.PID())
	os.Exit(0) // no Stop: the kernel must end moto
}

func TestParentDeathStopsMoto(t *testing.T) {
	t.Parallel()
	bin := venvBin(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), orphanHelperEnv+"="+bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(rest)
		}
		if strings.HasPrefix(sc.Text(), "ERR ") {
			t.Fatal(sc.Text())
		}
	}
	_ = cmd.Wait()
	if pid == 0 {
		t.Fatal("helper did not report moto's PID")
	}
	deadline := time.Now().Add(15 * time.Second)
	for runningNotZombie(pid) {
		if time.Now().After(deadline) {
			_ = signalGroup(pid, sigKill)
			t.Fatalf("moto %d outlived its parent", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runningNotZombie reports whether pid is a live process. An orphan that has
// exited may linger as a zombie until the reaper collects it; that counts
// as gone.
func runningNotZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
