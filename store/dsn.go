package store

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// kvDSN matches the start of a libpq keyword/value connection string
// ("host=db dbname=news ..."): a keyword, optional spaces, and "=".
var kvDSN = regexp.MustCompile(`^\s*[A-Za-z_]+\s*=`)

// IsPostgres reports whether dsn names a PostgreSQL database: a postgres://
// or postgresql:// URL, or a libpq keyword/value string such as
// "host=db dbname=news". Anything else is a SQLite file name.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") || kvDSN.MatchString(dsn)
}

// RedactDSN returns dsn in a form fit for errors and logs: a SQLite file
// name as it is, a PostgreSQL DSN as pgx parses it (user, host, port,
// database and run-time parameters) without any password. A PostgreSQL DSN
// that pgx cannot parse is shown only as "an invalid PostgreSQL DSN": a
// string that does not parse cannot be redacted with certainty.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "an invalid PostgreSQL DSN"
	}
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Path: "/" + cfg.Database}
	u.Host = cfg.Host
	if cfg.Port != 0 && !strings.HasPrefix(cfg.Host, "/") {
		u.Host += ":" + strconv.Itoa(int(cfg.Port))
	}
	if strings.HasPrefix(cfg.Host, "/") { // a Unix socket folder
		u.Host = ""
		cfg.RuntimeParams["host"] = cfg.Host
	}
	q := url.Values{}
	for _, k := range slices.Sorted(maps.Keys(cfg.RuntimeParams)) {
		if !strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, cfg.RuntimeParams[k])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens the store that dsn names (see IsPostgres): PostgreSQL through
// OpenPostgres, otherwise the SQLite file through OpenSQLite. Its errors
// name the database by RedactDSN, never with a password.
func Open(ctx context.Context, dsn string) (Store, error) {
	if IsPostgres(dsn) {
		pg, err := OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", RedactDSN(dsn), err)
		}
		return pg, nil
	}
	sq, err := OpenSQLite(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return sq, nil
}
