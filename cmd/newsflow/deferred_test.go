package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/process"
)

// One record of a newer schema (as during a rolling upgrade) waits for an
// upgraded store without holding back the 15 ordinary records behind it,
// and is not parked.
func TestNewerRecordDoesNotStallStore(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig("", dir)
	cfg.roles = []string{"store"}
	r := startPipeline(t, cfg)
	defer r.stop(t)
	for i := range 16 {
		a := process.Article{SchemaVersion: process.ArticleSchemaVersion, ID: fmt.Sprintf("rec-%02d", i),
			Title: fmt.Sprintf("Record %d", i), FetchedAt: time.Date(2026, 3, 4, 12, i, 0, 0, time.UTC)}
		if i == 3 {
			a.SchemaVersion++
		}
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.bus.Publish(t.Context(), bus.ArticleSubject("upgrade"), a.ID, data); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := r.storedStats().Inserted
		if n == 15 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s %d of the 15 ordinary records are stored", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := streamCount(t, r.bus, bus.StreamParked); n != 0 {
		t.Errorf("%d messages parked, want none: the newer record waits", n)
	}
}
