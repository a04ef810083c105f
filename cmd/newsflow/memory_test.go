package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestDefaultMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	setDefaultMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Errorf("with $GOMEMLIMIT set, the limit became %d, want the user's %d", got, 1<<30)
	}

	t.Setenv("GOMEMLIMIT", "") // restored after the test
	os.Unsetenv("GOMEMLIMIT")
	if prev := setDefaultMemoryLimit(); prev != 1<<30 {
		t.Errorf("setDefaultMemoryLimit returned %d, want the limit before it (%d)", prev, 1<<30)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("without $GOMEMLIMIT the limit is %d, want %d", got, defaultMemoryLimit)
	}
}

func TestDefaultWorkers(t *testing.T) {
	t.Setenv("NEWSFLOW_WORKERS", "") // restored after the test
	os.Unsetenv("NEWSFLOW_WORKERS")
	cfg, err := parseConfig("process", []string{"--data", t.TempDir()}, []string{"process"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.workers != defaultWorkers() || cfg.workers < 2 {
		t.Errorf("default --workers is %d, want %d (two per core, at least 2)", cfg.workers, defaultWorkers())
	}
}
