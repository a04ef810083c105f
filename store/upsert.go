package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/process/metadata"
)

// current is what Upsert needs to know of a stored row.
type current struct {
	id               string
	seq              int64
	url              string
	title            string
	published        time.Time
	contentHash      string
	extractorVersion string
	fingerprint      string
	duplicateOf      string
	fetchedAt        time.Time
}

// op is one write of an Upsert: an insert, an update of the row with the
// article's id (keeping its first_seen), or only new aliases of a row
// whose record is unchanged.
type op struct {
	insert bool
	// aliasOnly: the row's record stays; only aliases are added.
	aliasOnly bool
	// revision: the stored version is kept as a revision before the update.
	revision bool
	a        *process.Article // DuplicateOf decided by the store
	index    int              // position in the batch
	seq      int64            // the row's: newSeq and up for a row the batch inserts
	record   []byte           // JSON of a
	hasFP    bool
	bands    [bandCount]int64
	aliases  []alias // addresses of the row not stored yet
}

// alias is one address an article was seen under.
type alias struct {
	key string // metadata.URLKey of url
	url string // metadata.TrimURL of the address
}

// storedAlias is an alias of a stored article.
type storedAlias struct {
	alias
	id string
}

// upsertTx is a backend's transaction, in the terms of the upsert
// algorithm that both backends share: read what the batch needs in a few
// queries, decide in memory, then write.
type upsertTx interface {
	// lookup returns the stored rows with the ids.
	lookup(ctx context.Context, ids []string) (map[string]current, error)
	// aliases returns the stored addresses with the keys, the latest
	// first.
	aliases(ctx context.Context, keys []string) ([]storedAlias, error)
	// candidates returns the stored articles whose fingerprint band i is
	// one of values[i], for any i, and that near reports true for (a
	// backend may test it before it reads the whole row).
	candidates(ctx context.Context, values [bandCount][]int64, near func(fp uint64) bool) ([]current, error)
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

// maxAliasLen is the longest address kept as an alias: longer ones (a
// link with a huge query, say) are left out rather than fail the record
// on an index limit.
const maxAliasLen = 2000

// addresses returns the distinct addresses of a: its URL first, then its
// link and aliases.
func addresses(a *process.Article) []alias {
	var out []alias
	add := func(u string) {
		t := metadata.TrimURL(u)
		k := metadata.URLKey(t)
		if k == "" || len(t) > maxAliasLen {
			return
		}
		for _, o := range out {
			if o.url == t {
				return
			}
		}
		out = append(out, alias{key: k, url: t})
	}
	add(a.URL)
	add(a.Link)
	for _, u := range a.Aliases {
		add(u)
	}
	return out
}

// sameTitle reports whether two titles read the same, white space aside.
func sameTitle(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// planBatch decides what each article of the batch does, as if the batch
// were applied one article at a time, and returns the writes.
//
// An article is the stored row with its id; else the row that one of its
// addresses (see addresses) already belongs to; else the row of an
// article of the same site whose fingerprint is within
// NearDuplicateDistance and whose title or publication time is the same
// (the story under a new address). Otherwise it is new.
func planBatch(ctx context.Context, tx upsertTx, batch []process.Article) ([]op, UpsertStats, error) {
	var (
		ids    []string
		seen   = map[string]bool{}
		keys   []string
		seenK  = map[string]bool{}
		values [bandCount][]int64
		seenV  [bandCount]map[int64]bool
	)
	for i := range seenV {
		seenV[i] = map[int64]bool{}
	}
	fps := make([]uint64, len(batch))
	var batchFPs []uint64 // of the articles with one
	addrs := make([][]alias, len(batch))
	for i := range batch {
		a := &batch[i]
		if !seen[a.ID] {
			seen[a.ID] = true
			ids = append(ids, a.ID)
		}
		addrs[i] = addresses(a)
		for _, al := range addrs[i] {
			if !seenK[al.key] {
				seenK[al.key] = true
				keys = append(keys, al.key)
			}
		}
		if a.Fingerprint == "" {
			continue
		}
		fps[i], _ = parseFingerprint(a.Fingerprint) // validated
		batchFPs = append(batchFPs, fps[i])
		for n, v := range bands(fps[i]) {
			if !seenV[n][v] {
				seenV[n][v] = true
				values[n] = append(values[n], v)
			}
		}
	}
	owners := map[string]string{} // article id by address key
	known := map[string]bool{}    // stored addresses
	if len(keys) > 0 {
		stored, err := tx.aliases(ctx, keys)
		if err != nil {
			return nil, UpsertStats{}, fmt.Errorf("look up the batch's addresses: %w", err)
		}
		for _, al := range stored {
			known[al.url] = true
			owners[al.key] = al.id // the earliest last: it wins
			if !seen[al.id] {
				seen[al.id] = true
				ids = append(ids, al.id)
			}
		}
	}
	rows, err := tx.lookup(ctx, ids)
	if err != nil {
		return nil, UpsertStats{}, fmt.Errorf("look up the batch's articles: %w", err)
	}
	near := newNearIndex()
	if len(values[0]) > 0 {
		cands, err := tx.candidates(ctx, values, nearAny(batchFPs))
		if err != nil {
			return nil, UpsertStats{}, fmt.Errorf("look up near-duplicate candidates: %w", err)
		}
		for _, c := range cands {
			near.set(c)
			if _, ok := rows[c.id]; !ok {
				rows[c.id] = c
			}
		}
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
		if !found {
			if id := ownerOf(addrs[i], owners); id != "" {
				old, found = rows[id]
			}
		}
		if !found && o.hasFP {
			if id := near.sameStory(fps[i], &a); id != "" {
				old, found = rows[id]
			}
		}
		if found {
			a.ID = old.id
		}
		for _, al := range addrs[i] {
			if !known[al.url] {
				known[al.url] = true
				o.aliases = append(o.aliases, al)
			}
			if _, ok := owners[al.key]; !ok {
				owners[al.key] = a.ID
			}
		}
		switch {
		case !found:
			o.insert = true
			old.seq = newSeq + int64(i)
			a.DuplicateOf = ""
			if o.hasFP {
				a.DuplicateOf = near.earliest(fps[i], a.ID, old.seq)
			}
			stats.Inserted++
		case old.contentHash == a.ContentHash && old.extractorVersion == a.ExtractorVersion && sameTitle(old.title, a.Title),
			a.FetchedAt.Before(old.fetchedAt):
			stats.Unchanged++
			if len(o.aliases) > 0 {
				o.aliasOnly = true
				ops = append(ops, o)
			}
			continue
		default:
			// A new version of the story, unless only the extraction
			// rules changed.
			o.revision = old.extractorVersion == a.ExtractorVersion
			if a.Fingerprint == old.fingerprint {
				a.DuplicateOf = old.duplicateOf
			} else {
				a.DuplicateOf = ""
				if o.hasFP {
					a.DuplicateOf = near.earliest(fps[i], a.ID, old.seq)
				}
			}
			stats.Updated++
			if o.revision {
				stats.Revised++
			}
		}
		o.seq = old.seq
		if o.record, err = encodeRecord(&a, i); err != nil {
			return nil, UpsertStats{}, err
		}
		ops = append(ops, o)
		c := current{
			id:               a.ID,
			seq:              old.seq,
			url:              a.URL,
			title:            a.Title,
			published:        a.Published,
			contentHash:      a.ContentHash,
			extractorVersion: a.ExtractorVersion,
			fingerprint:      a.Fingerprint,
			duplicateOf:      a.DuplicateOf,
			fetchedAt:        a.FetchedAt,
		}
		rows[a.ID] = c
		near.set(c)
	}
	return ops, stats, nil
}

// ownerOf returns the id of the article that the first of addrs with an
// owner belongs to, or "".
func ownerOf(addrs []alias, owners map[string]string) string {
	for _, al := range addrs {
		if id := owners[al.key]; id != "" {
			return id
		}
	}
	return ""
}

// bandLists lists values by the bands of their fingerprints: every value
// whose fingerprint is within NearDuplicateDistance of another is listed
// under one of that one's bands (pigeonhole, see bandCount).
type bandLists[V any] [bandCount]map[int64][]V

func newBandLists[V any]() bandLists[V] {
	var l bandLists[V]
	for i := range l {
		l[i] = map[int64][]V{}
	}
	return l
}

func (l bandLists[V]) add(fp uint64, v V) {
	for i, b := range bands(fp) {
		l[i][b] = append(l[i][b], v)
	}
}

// sharing calls fn with the values listed under fp's bands: those near it
// among others, some more than once.
func (l bandLists[V]) sharing(fp uint64, fn func(V)) {
	for i, b := range bands(fp) {
		for _, v := range l[i][b] {
			fn(v)
		}
	}
}

// nearIndex holds, by id, the fingerprints that may be near those of the
// batch: the stored candidates, kept up to date as the batch is planned.
// The ids are listed by band as well, so that a lookup reads only the
// entries that share a band with its fingerprint, not every candidate of
// the batch.
type nearIndex struct {
	entries map[string]nearEntry
	byBand  bandLists[string]
}

type nearEntry struct {
	seq       int64
	fp        uint64
	site      string
	title     string
	published time.Time
}

func newNearIndex() *nearIndex {
	return &nearIndex{entries: map[string]nearEntry{}, byBand: newBandLists[string]()}
}

func (n *nearIndex) set(c current) {
	fp, err := parseFingerprint(c.fingerprint)
	if err != nil {
		delete(n.entries, c.id)
		return
	}
	if e, ok := n.entries[c.id]; !ok || e.fp != fp {
		n.byBand.add(fp, c.id)
	}
	n.entries[c.id] = nearEntry{seq: c.seq, fp: fp, site: site(c.url), title: c.title, published: c.published}
}

// near calls fn with every entry within NearDuplicateDistance of fp, some
// more than once.
func (n *nearIndex) near(fp uint64, fn func(id string, e nearEntry)) {
	n.byBand.sharing(fp, func(id string) {
		// An id listed under a band of its earlier fingerprint is tested
		// with its current one.
		if e, ok := n.entries[id]; ok && hamming(fp, e.fp) <= NearDuplicateDistance {
			fn(id, e)
		}
	})
}

// nearAny returns whether a fingerprint is within NearDuplicateDistance of
// one of fps.
func nearAny(fps []uint64) func(fp uint64) bool {
	l := newBandLists[uint64]()
	for _, fp := range fps {
		l.add(fp, fp)
	}
	return func(fp uint64) bool {
		found := false
		l.sharing(fp, func(o uint64) { found = found || hamming(fp, o) <= NearDuplicateDistance })
		return found
	}
}

// site is the host of an article's address, as URLKey gives it.
func site(u string) string { return metadata.URLKeyHost(metadata.URLKey(u)) }

// earliest returns the id of the article with the smallest seq below
// before, other than id, within NearDuplicateDistance of fp, or "".
func (n *nearIndex) earliest(fp uint64, id string, before int64) string {
	best, bestSeq := "", before
	n.near(fp, func(other string, e nearEntry) {
		if e.seq < bestSeq && other != id {
			best, bestSeq = other, e.seq
		}
	})
	return best
}

// sameStory returns the id of the earliest article of a's site within
// NearDuplicateDistance of fp whose title reads the same or whose
// publication time is the same, or "": a's story under another address.
func (n *nearIndex) sameStory(fp uint64, a *process.Article) string {
	s := site(a.URL)
	if s == "" {
		return ""
	}
	best, bestSeq := "", int64(math.MaxInt64)
	n.near(fp, func(id string, e nearEntry) {
		if e.seq >= bestSeq || e.site != s {
			return
		}
		if (strings.TrimSpace(a.Title) != "" && sameTitle(e.title, a.Title)) || (!a.Published.IsZero() && a.Published.Equal(e.published)) {
			best, bestSeq = id, e.seq
		}
	})
	return best
}
