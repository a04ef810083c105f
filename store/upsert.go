package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newsflow/newsflow/process"
)

// current is what Upsert needs to know of a stored row.
type current struct {
	seq              int64
	contentHash      string
	extractorVersion string
	fingerprint      string
	duplicateOf      string
	fetchedAt        time.Time
}

// candidate is a stored article that may be near another's fingerprint.
type candidate struct {
	id          string
	seq         int64
	fingerprint string
}

// op is one write of an Upsert: an insert, or an update of the row with
// the article's id (keeping its first_seen).
type op struct {
	insert bool
	a      *process.Article // DuplicateOf decided by the store
	index  int              // position in the batch
	record []byte           // JSON of a
	hasFP  bool
	bands  [bandCount]int64
}

// upsertTx is a backend's transaction, in the terms of the upsert
// algorithm that both backends share: read what the batch needs in two
// queries, decide in memory, then write.
type upsertTx interface {
	// lookup returns the stored rows with the ids.
	lookup(ctx context.Context, ids []string) (map[string]current, error)
	// candidates returns the stored articles whose fingerprint band i is
	// one of values[i], for any i.
	candidates(ctx context.Context, values [bandCount][]int64) ([]candidate, error)
	// write applies the writes in order.
	write(ctx context.Context, ops []op) error
}

// newSeq is the seq given, while planning, to the articles that the batch
// inserts: after every stored one, in batch order.
const newSeq = int64(1) << 62

// validateBatch checks every article of a batch and joins the errors of the
// invalid ones.
func validateBatch(batch []process.Article) error {
	var errs []error
	for i := range batch {
		if err := validate(&batch[i], i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// upsertBatch applies a validated batch, in batch order, inside tx.
func upsertBatch(ctx context.Context, tx upsertTx, batch []process.Article) (UpsertStats, error) {
	ops, stats, err := planBatch(ctx, tx, batch)
	if err != nil {
		return UpsertStats{}, err
	}
	if err := tx.write(ctx, ops); err != nil {
		return UpsertStats{}, err
	}
	return stats, nil
}

// planBatch decides what each article of the batch does, as if the batch
// were applied one article at a time, and returns the writes.
func planBatch(ctx context.Context, tx upsertTx, batch []process.Article) ([]op, UpsertStats, error) {
	var (
		ids    []string
		seen   = map[string]bool{}
		values [bandCount][]int64
		seenV  [bandCount]map[int64]bool
	)
	for i := range seenV {
		seenV[i] = map[int64]bool{}
	}
	fps := make([]uint64, len(batch))
	for i := range batch {
		a := &batch[i]
		if !seen[a.ID] {
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
		if a.Fingerprint == "" {
			continue
		}
		fps[i], _ = parseFingerprint(a.Fingerprint) // validated
		for n, v := range bands(fps[i]) {
			if !seenV[n][v] {
				seenV[n][v] = true
				values[n] = append(values[n], v)
			}
		}
	}
	rows, err := tx.lookup(ctx, ids)
	if err != nil {
		return nil, UpsertStats{}, fmt.Errorf("look up the batch's articles: %w", err)
	}
	var near nearIndex
	if len(values[0]) > 0 {
		cands, err := tx.candidates(ctx, values)
		if err != nil {
			return nil, UpsertStats{}, fmt.Errorf("look up near-duplicate candidates: %w", err)
		}
		near = make(nearIndex, len(cands))
		for _, c := range cands {
			near.set(c.id, c.seq, c.fingerprint)
		}
	} else {
		near = nearIndex{}
	}

	var (
		ops   []op
		stats UpsertStats
	)
	for i := range batch {
		a := batch[i]
		o := op{a: &a, index: i}
		if a.Fingerprint != "" {
			o.hasFP, o.bands = true, bands(fps[i])
		}
		old, found := rows[a.ID]
		switch {
		case !found:
			o.insert = true
			old.seq = newSeq + int64(i)
			a.DuplicateOf = ""
			if o.hasFP {
				a.DuplicateOf = near.earliest(fps[i], a.ID, old.seq)
			}
			stats.Inserted++
		case old.contentHash == a.ContentHash && old.extractorVersion == a.ExtractorVersion,
			a.FetchedAt.Before(old.fetchedAt):
			stats.Unchanged++
			continue
		default:
			if a.Fingerprint == old.fingerprint {
				a.DuplicateOf = old.duplicateOf
			} else {
				a.DuplicateOf = ""
				if o.hasFP {
					a.DuplicateOf = near.earliest(fps[i], a.ID, old.seq)
				}
			}
			stats.Updated++
		}
		if o.record, err = encodeRecord(&a, i); err != nil {
			return nil, UpsertStats{}, err
		}
		ops = append(ops, o)
		rows[a.ID] = current{
			seq:              old.seq,
			contentHash:      a.ContentHash,
			extractorVersion: a.ExtractorVersion,
			fingerprint:      a.Fingerprint,
			duplicateOf:      a.DuplicateOf,
			fetchedAt:        a.FetchedAt,
		}
		near.set(a.ID, old.seq, a.Fingerprint)
	}
	return ops, stats, nil
}

// nearIndex holds, by id, the fingerprints that may be near those of the
// batch: the stored candidates, kept up to date as the batch is planned.
type nearIndex map[string]nearEntry

type nearEntry struct {
	seq int64
	fp  uint64
}

func (n nearIndex) set(id string, seq int64, fingerprint string) {
	fp, err := parseFingerprint(fingerprint)
	if err != nil {
		delete(n, id)
		return
	}
	n[id] = nearEntry{seq: seq, fp: fp}
}

// earliest returns the id of the article with the smallest seq below
// before, other than id, within NearDuplicateDistance of fp, or "".
func (n nearIndex) earliest(fp uint64, id string, before int64) string {
	best, bestSeq := "", before
	for other, e := range n {
		if e.seq < bestSeq && other != id && hamming(fp, e.fp) <= NearDuplicateDistance {
			best, bestSeq = other, e.seq
		}
	}
	return best
}
