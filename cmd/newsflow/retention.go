package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// parseAge reads a retention age: a Go duration ("36h", "90m") or whole
// days ("7d"); "0" means no age limit.
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days such as 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not an age such as 7d or 36h", s)
	}
	return d, nil
}

// byteUnits are the size suffixes parseBytes knows, longest first.
var byteUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseBytes reads a size: a whole number of bytes with an optional unit
// ("512MiB", "2GiB", "1GB"); "0" means no size limit.
func parseBytes(s string) (int64, error) {
	num, factor := s, int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, factor = strings.TrimSpace(n), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/factor {
		return 0, fmt.Errorf("%q is not a size such as 2GiB or 500MB", s)
	}
	return n * factor, nil
}

// formatBytes writes n in the largest binary unit that divides it.
func formatBytes(n int64) string {
	for i := 3; i >= 0; i-- {
		if u := byteUnits[i]; n >= u.factor && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func formatAge(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// ageFlag and sizeFlag are flag.Values for retention limits.
type ageFlag struct{ p *time.Duration }

func (f ageFlag) String() string {
	if f.p == nil {
		return ""
	}
	return formatAge(*f.p)
}

func (f ageFlag) Set(s string) (err error) { *f.p, err = parseAge(s); return err }

type sizeFlag struct{ p *int64 }

func (f sizeFlag) String() string {
	if f.p == nil {
		return ""
	}
	return formatBytes(*f.p)
}

func (f sizeFlag) Set(s string) (err error) { *f.p, err = parseBytes(s); return err }

// value binds a flag.Value whose default comes from env when set.
func (e *envFlags) value(v interface {
	String() string
	Set(string) error
}, name, env, usage string) {
	if s, ok := os.LookupEnv(env); ok {
		if err := v.Set(s); err != nil {
			e.errs = append(e.errs, fmt.Errorf("$%s: %w", env, err))
		}
	}
	e.fs.Var(v, name, usage+" ($"+env+")")
}

// retentionFlags binds --raw-max-age, --raw-max-bytes and the like for
// every stream and bucket, with bus.DefaultRetention as defaults.
func (e *envFlags) retentionFlags(r *bus.Retention) {
	*r = bus.DefaultRetention()
	for _, s := range []struct {
		name, what string
		l          *bus.Limits
	}{
		{"raw", "fetched pages (stream NEWS_RAW)", &r.Raw},
		{"articles", "records (stream NEWS_ARTICLES)", &r.Articles},
		{"parked", "parked messages (stream NEWS_PARKED)", &r.Parked},
		{"bodies", "pages too large for one message (object store NEWS_BODIES)", &r.Bodies},
		{"seen", "ids of published feed items (bucket NEWSFLOW_SEEN)", &r.Seen},
	} {
		env := "NEWSFLOW_" + strings.ToUpper(s.name)
		e.value(ageFlag{&s.l.MaxAge}, s.name+"-max-age", env+"_MAX_AGE", "keep "+s.what+" this long (0: no limit)")
		e.value(sizeFlag{&s.l.MaxBytes}, s.name+"-max-bytes", env+"_MAX_BYTES", "keep at most this much of "+s.what+", oldest dropped first (0: no limit)")
	}
}

// checkRetention returns an error naming each limit too small to be meant.
func checkRetention(r bus.Retention) []error {
	var errs []error
	for _, s := range []struct {
		name string
		l    bus.Limits
	}{{"raw", r.Raw}, {"articles", r.Articles}, {"parked", r.Parked}, {"bodies", r.Bodies}, {"seen", r.Seen}} {
		name, l := s.name, s.l
		if l.MaxAge != 0 && l.MaxAge < time.Minute {
			errs = append(errs, fmt.Errorf("--%s-max-age: %s is too short (at least 1m, or 0 for no limit)", name, l.MaxAge))
		}
		if l.MaxBytes != 0 && l.MaxBytes < 1<<20 {
			errs = append(errs, fmt.Errorf("--%s-max-bytes: %d bytes is too small (at least 1MiB, or 0 for no limit)", name, l.MaxBytes))
		}
	}
	return errs
}
