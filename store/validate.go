package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsflow/newsflow/process"
)

var (
	errEmpty       = errors.New("is empty")
	errInvalidUTF8 = errors.New("is not valid UTF-8")
	errNUL         = errors.New("holds a NUL byte, which PostgreSQL text cannot store")
	errYear        = errors.New("has a year outside 0..9999, which JSON cannot encode")
)

// Validate checks that an article can be stored and read back unchanged:
// it has an id, its fingerprint (if any) is 16 hex digits, every string is
// valid UTF-8 without NUL bytes, and every time has a year in 0..9999. The
// error, if any, is an *InvalidArticleError (permanent) naming the field.
func Validate(a process.Article) error {
	return validate(&a, -1)
}

func validate(a *process.Article, index int) error {
	invalid := func(field string, err error) error {
		return &InvalidArticleError{ID: a.ID, Index: index, Field: field, Err: err}
	}
	if a.ID == "" {
		return invalid("id", errEmpty)
	}
	if a.Fingerprint != "" {
		if _, err := parseFingerprint(a.Fingerprint); err != nil {
			return invalid("fingerprint", err)
		}
	}
	if field, err := checkValue(reflect.ValueOf(a).Elem(), ""); err != nil {
		return invalid(field, err)
	}
	return nil
}

var timeType = reflect.TypeFor[time.Time]()

// checkValue walks v and returns the JSON path of the first value that
// would not survive a JSON and database round trip.
func checkValue(v reflect.Value, path string) (string, error) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if !utf8.ValidString(s) {
			return path, errInvalidUTF8
		}
		if strings.IndexByte(s, 0) >= 0 {
			return path, errNUL
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkValue(v.Elem(), path)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if f, err := checkValue(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return f, err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			p := fmt.Sprintf("%s[%v]", path, iter.Key())
			if f, err := checkValue(iter.Key(), p); err != nil {
				return f, err
			}
			if f, err := checkValue(iter.Value(), p); err != nil {
				return f, err
			}
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if y := v.Interface().(time.Time).Year(); y < 0 || y > 9999 {
				return path, errYear
			}
			return "", nil
		}
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if path != "" {
				name = path + "." + name
			}
			if f, err := checkValue(v.Field(i), name); err != nil {
				return f, err
			}
		}
	}
	return "", nil
}

// Decode parses an Article from its JSON encoding (the payload of
// news.article.<feed>) and validates it. JSON that does not decode, or an
// article that Validate rejects, gives an *InvalidArticleError (permanent),
// with the id if the payload had one; a record of a newer schema version
// gives a *DeferredError.
func Decode(data []byte) (process.Article, error) {
	a, err := process.DecodeArticle(data)
	if errors.Is(err, process.ErrNewerArticleSchema) {
		// Written by a newer processor: stored now, its new fields would be
		// lost. An upgraded store takes it; until then it waits.
		return process.Article{}, &DeferredError{ID: a.ID, Err: err}
	}
	if err != nil {
		field := "record"
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
			field = te.Field
		}
		id := a.ID
		if id == "" {
			id = peekID(data)
		}
		return process.Article{}, &InvalidArticleError{ID: id, Index: -1, Field: field, Err: fmt.Errorf("bad JSON: %w", err)}
	}
	if err := Validate(a); err != nil {
		return process.Article{}, err
	}
	return a, nil
}

// peekID returns the top-level "id" string of a JSON object that did not
// decode as an Article, if it has one, so that the error can name it.
func peekID(data []byte) string {
	var probe struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &probe) != nil {
		return ""
	}
	var id string
	if json.Unmarshal(probe.ID, &id) != nil {
		return ""
	}
	return id
}

// encodeRecord returns the JSON of the record as it is stored.
func encodeRecord(a *process.Article, index int) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, &InvalidArticleError{ID: a.ID, Index: index, Field: "record", Err: fmt.Errorf("bad JSON: %w", err)}
	}
	return b, nil
}

// records is what eachRecord reads of a query's (id, record) rows: both
// *sql.Rows and pgx.Rows have it.
type records interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// eachRecord decodes each row and calls fn with it, stopping at the first
// error; a backend's classify names the failures of its driver.
func eachRecord(rows records, classify func(op string, err error) error, fn func(process.Article) error) error {
	for rows.Next() {
		var id string
		var record []byte
		if err := rows.Scan(&id, &record); err != nil {
			return classify("each", err)
		}
		a, err := decodeRecord(id, record)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return classify("each", err)
	}
	return nil
}

// decodeRecord parses a stored record.
func decodeRecord(id string, b []byte) (process.Article, error) {
	var a process.Article
	if err := json.Unmarshal(b, &a); err != nil {
		return process.Article{}, fmt.Errorf("store: decode stored record %q: %w", id, err)
	}
	return a, nil
}
