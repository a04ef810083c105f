package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// defaultMemoryLimit is the soft limit of the Go heap that the long-running
// commands set when GOMEMLIMIT is not: with it the collector runs more often
// as the heap nears it, instead of letting the heap grow to twice what is
// live, so that `newsflow run` with its default workers and ordinary pages
// stays under 400 MB resident (the rest is stacks, SQLite's cache and the
// runtime's own). It is soft: a heap that needs more gets it, at the cost of
// more collection.
const defaultMemoryLimit = 300 << 20

// setDefaultMemoryLimit sets defaultMemoryLimit unless $GOMEMLIMIT says
// otherwise, and returns the limit that was in force before.
func setDefaultMemoryLimit() int64 {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return debug.SetMemoryLimit(-1)
	}
	return debug.SetMemoryLimit(defaultMemoryLimit)
}

// defaultWorkers is the processor workers' default: two per core, so that a
// core extracts one page while the other worker waits for its record's
// publish to be written to disk, capped so that memory stays bounded on a
// large machine.
func defaultWorkers() int { return min(2*runtime.GOMAXPROCS(0), 16) }
