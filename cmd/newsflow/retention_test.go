package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "512MiB": 512 << 20, "2GiB": 2 << 30, "1GB": 1e9,
		"10 MB": 10e6, "3KiB": 3 << 10, "7B": 7, "1TiB": 1 << 40} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "2G", "1.5GiB", "GiB", "99999999999TiB", "lots"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "7d": 7 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1h", "d", "1.5d", "7days", "week"} {
		if got, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = %s, want an error", in, got)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"0", "2GiB", "10 MB", "-1", "1TiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseBytes(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseBytes(%q) = %d", s, n)
		}
		if back, err := parseBytes(formatBytes(n)); err != nil || back != n {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, n, formatBytes(n), back, err)
		}
	})
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"0", "7d", "36h", "1h30m", "-1h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAge(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("parseAge(%q) = %s", s, d)
		}
		if back, err := parseAge(formatAge(d)); err != nil || back != d {
			t.Fatalf("%q -> %s -> %q -> %s, %v", s, d, formatAge(d), back, err)
		}
	})
}

func TestRetentionSettings(t *testing.T) {
	t.Setenv("NEWSFLOW_RAW_MAX_AGE", "3d")
	t.Setenv("NEWSFLOW_BODIES_MAX_BYTES", "256MiB")
	c, err := parseConfig("store", []string{"--articles-max-bytes", "5GiB", "--parked-max-age", "0"}, []string{"store"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r := c.retention
	if r.Raw.MaxAge != 3*24*time.Hour || r.Bodies.MaxBytes != 256<<20 || r.Articles.MaxBytes != 5<<30 || r.Parked.MaxAge != 0 ||
		r.Raw.MaxBytes != 2<<30 || r.Seen.MaxAge != 90*24*time.Hour {
		t.Errorf("retention = %+v", r)
	}

	t.Setenv("NEWSFLOW_SEEN_MAX_AGE", "forever")
	_, err = parseConfig("store", []string{"--raw-max-bytes", "10KiB", "--articles-max-age", "30s", "--replicas", "0"}, []string{"store"}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("bad retention accepted")
	}
	for _, want := range []string{"$NEWSFLOW_SEEN_MAX_AGE", "--raw-max-bytes", "--articles-max-age", "--replicas"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// parked and replay read --replicas too, and refuse a wrong one before
// connecting anywhere.
func TestShortCommandsReadReplicas(t *testing.T) {
	t.Setenv("NEWSFLOW_REPLICAS", "9")
	for _, args := range [][]string{{"parked", "list"}, {"replay", "raw"}} {
		err := run(t.Context(), append(args, "--data", t.TempDir()), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "--replicas") {
			t.Errorf("%v with NEWSFLOW_REPLICAS=9: %v, want an error naming --replicas", args, err)
		}
	}
}
