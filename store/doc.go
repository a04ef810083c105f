// Package store persists processed articles (process.Article) in SQLite (the
// default, embedded) or PostgreSQL, and reads them back for queries and
// export.
//
// Both backends have the same method set (see Store) and the same behaviour,
// checked by one contract test suite:
//
//   - Upsert writes a batch in one transaction, keyed by the article: the
//     stored row with its id, else the row that one of its addresses (URL,
//     link, aliases; compared by metadata.URLKey) belongs to, else a row of
//     the same site whose fingerprint is within NearDuplicateDistance and
//     whose title or publication time is the same. The record then takes
//     that row's id. A new article is inserted; the same article with the
//     same content hash, title (white space aside) and extractor version is
//     Unchanged and leaves the row alone (its new addresses are recorded);
//     otherwise the stored row is Updated with the newer record, keeping
//     the fetched_at of the first record as first_seen. An update under the
//     same extractor version keeps the record it replaces as a revision
//     (see Revisions); one that only changes the extractor version does
//     not. Every address an article was seen under is kept (see Aliases). A record older than the stored one (an
//     earlier fetched_at, as when a stream is replayed) is counted Unchanged
//     and not written, so replays never roll a row back. Redelivering or
//     replaying the same articles any number of times leaves one row each,
//     and an id repeated inside a batch is applied in batch order.
//   - On insert, DuplicateOf is set to the earliest stored article whose
//     64-bit SimHash fingerprint is within Hamming distance 3 (see
//     NearDuplicateDistance). The fingerprint is also kept as four 16-bit
//     bands in indexed columns: two fingerprints within distance 3 agree on
//     at least one band, so only articles sharing a band are compared. An
//     update whose fingerprint changed is checked again, against articles
//     stored before it only (so duplicate links never form a cycle); an
//     update with the same fingerprint keeps its DuplicateOf. DuplicateOf of
//     an incoming article is ignored: the store decides it.
//   - The full record is stored as JSON, so Get returns exactly what was
//     upserted (its JSON encoding is identical), with DuplicateOf filled in.
//     Indexed columns beside it serve queries.
//   - The schema is versioned in a schema_migrations table and migrated when a
//     store is opened, safely when several processes open it at once.
//   - Search (see Query) is full-text over title, description and text
//     (SQLite: an FTS5 table with external content, kept in sync by
//     triggers, ranked by bm25; PostgreSQL: a generated tsvector with a GIN
//     index, ranked by ts_rank), with filters, two orders and keyset
//     pagination through an opaque cursor. Both backends read a search
//     text the same way, through one parser.
//
// # Errors
//
// Errors are classified where they happen, so that a consumer can decide
// between ack, nak-with-delay and parking a message without parsing strings:
//
//   - Permanent: the error (or one it wraps) has a Permanent() bool method
//     returning true. The input can never be stored as it is: an empty id, a
//     malformed fingerprint, text that is not valid UTF-8 or holds a NUL byte,
//     a time that JSON cannot encode, JSON that does not decode
//     (see Decode), or data that the database rejected as invalid. Such
//     errors are *InvalidArticleError values naming the article id, the
//     batch index and the field. Upsert checks the whole batch before it
//     writes anything: if any article is invalid, nothing is written and the
//     error wraps one *InvalidArticleError per invalid article (see
//     InvalidArticles), so that the caller can park those messages and
//     upsert the rest again. Park (term) the message; retrying cannot help.
//   - Temporary: the error has a Temporary() bool method returning true. The
//     database was busy or locked (SQLite), a serialization failure or
//     deadlock was detected, or the connection failed or was closed
//     (PostgreSQL). Nothing was committed; nak with a delay and retry.
//     An expired context deadline counts as temporary too (Go's
//     context.DeadlineExceeded has a Temporary method); a cancelled context
//     does not: the caller is giving up.
//   - Deferred: the error has a Deferred() bool method returning true. The
//     record was written by a newer newsflow (a newer schema_version, see
//     Decode): nak it with a delay, never park it, and go on with the
//     records behind it; an upgraded store takes it.
//   - None of these: unexpected. Treat it as retryable, but bound the number of
//     deliveries before parking.
//
// fault.Of (package ingest/fault) applies the rule.
package store
