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

// row is one article as it is written.
type row struct {
	a      *process.Article // DuplicateOf decided by the store
	index  int              // position in the batch
	record []byte           // JSON of a
	hasFP  bool
	bands  [bandCount]int64
	seq    int64 // of the stored row, for an update
}

// upsertTx is a backend's transaction, in the terms of the upsert
// algorithm that both backends share.
type upsertTx interface {
	// lookup returns the stored row with the id.
	lookup(ctx context.Context, id string) (current, bool, error)
	// candidates calls fn for the articles sharing at least one band with
	// b, stored before seq before, other than exclude, in seq order, until
	// fn returns true.
	candidates(ctx context.Context, b [bandCount]int64, exclude string, before int64, fn func(id, fingerprint string) bool) error
	// insert writes a new row; its first_seen is its fetched_at.
	insert(ctx context.Context, r *row) error
	// update replaces the stored row r.seq, keeping its first_seen.
	update(ctx context.Context, r *row) error
}

// noLimit is the "before" of candidates when every stored article counts.
const noLimit = int64(1<<63 - 1)

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
	var stats UpsertStats
	for i := range batch {
		a := batch[i]
		r := row{a: &a, index: i}
		var fp uint64
		if a.Fingerprint != "" {
			fp, _ = parseFingerprint(a.Fingerprint) // validated
			r.hasFP, r.bands = true, bands(fp)
		}
		old, found, err := tx.lookup(ctx, a.ID)
		if err != nil {
			return UpsertStats{}, fmt.Errorf("look up article %q: %w", a.ID, err)
		}
		switch {
		case !found:
			a.DuplicateOf = ""
			if r.hasFP {
				if a.DuplicateOf, err = findDuplicate(ctx, tx, &r, fp, noLimit); err != nil {
					return UpsertStats{}, err
				}
			}
			if r.record, err = encodeRecord(&a, i); err != nil {
				return UpsertStats{}, err
			}
			if err := tx.insert(ctx, &r); err != nil {
				return UpsertStats{}, fmt.Errorf("insert article %q: %w", a.ID, err)
			}
			stats.Inserted++
		case old.contentHash == a.ContentHash && old.extractorVersion == a.ExtractorVersion,
			a.FetchedAt.Before(old.fetchedAt):
			stats.Unchanged++
		default:
			r.seq = old.seq
			a.DuplicateOf = old.duplicateOf
			if a.Fingerprint != old.fingerprint {
				a.DuplicateOf = ""
				if r.hasFP {
					if a.DuplicateOf, err = findDuplicate(ctx, tx, &r, fp, old.seq); err != nil {
						return UpsertStats{}, err
					}
				}
			}
			if r.record, err = encodeRecord(&a, i); err != nil {
				return UpsertStats{}, err
			}
			if err := tx.update(ctx, &r); err != nil {
				return UpsertStats{}, fmt.Errorf("update article %q: %w", a.ID, err)
			}
			stats.Updated++
		}
	}
	return stats, nil
}

// findDuplicate returns the id of the earliest article stored before seq
// before whose fingerprint is within NearDuplicateDistance of fp, or "".
func findDuplicate(ctx context.Context, tx upsertTx, r *row, fp uint64, before int64) (string, error) {
	var dup string
	err := tx.candidates(ctx, r.bands, r.a.ID, before, func(id, fingerprint string) bool {
		other, err := parseFingerprint(fingerprint)
		if err == nil && hamming(fp, other) <= NearDuplicateDistance {
			dup = id
			return true
		}
		return false
	})
	if err != nil {
		return "", fmt.Errorf("find near-duplicates of article %q: %w", r.a.ID, err)
	}
	return dup, nil
}
