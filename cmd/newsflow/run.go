package main

import (
	"context"
	"io"
)

// cmdRun runs the given roles of the pipeline until ctx ends (SIGINT or
// SIGTERM), then drains every stage and returns nil.
func cmdRun(ctx context.Context, name string, args, roles []string, stderr io.Writer) error {
	cfg, err := parseConfig(name, args, roles, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	setDefaultMemoryLimit()
	p, err := newPipeline(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.close()
	err = p.run(ctx)
	log.Info("newsflow stopped", p.counters()...)
	return err
}
