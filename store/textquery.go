package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// maxTerms bounds the words and phrases of one search.
const maxTerms = 32

// textQuery is a parsed search text: groups joined by OR, each group a list
// of terms that must all match, and terms that must not match. Both
// backends build their full-text query from it, so that they agree.
type textQuery struct {
	groups [][]string // a term is a word or a phrase of several words
	not    []string
}

// parseTextQuery reads a search text as web search engines do: words must
// all appear; "two words" in double quotes must appear as a phrase; OR
// between two terms lets either match; -word or -"a phrase" must not
// appear. Punctuation inside a term separates words (as the indexes do);
// a term with no letter or digit is ignored.
func parseTextQuery(q string) (textQuery, error) {
	var (
		tq     textQuery
		group  []string
		or     bool // OR seen since the last term
		nTerms int
	)
	rs := []rune(q)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		neg := false
		if rs[i] == '-' && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) {
			neg = true
			i++
		}
		var raw string
		quoted := rs[i] == '"'
		if quoted {
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			raw = string(rs[i+1 : end])
			i = min(end+1, len(rs))
		} else {
			end := i
			for end < len(rs) && !unicode.IsSpace(rs[end]) && rs[end] != '"' {
				end++
			}
			raw = string(rs[i:end])
			i = end
		}
		if !quoted && !neg && raw == "OR" {
			or = len(group) > 0 || len(tq.groups) > 0
			continue
		}
		term := strings.Join(strings.FieldsFunc(raw, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
		}), " ")
		if term == "" {
			continue
		}
		if nTerms++; nTerms > maxTerms {
			return textQuery{}, fmt.Errorf("more than %d words and phrases", maxTerms)
		}
		if neg {
			tq.not = append(tq.not, term)
			continue
		}
		if or && len(group) > 0 {
			tq.groups = append(tq.groups, group)
			group = nil
		}
		or = false
		group = append(group, term)
	}
	if len(group) > 0 {
		tq.groups = append(tq.groups, group)
	}
	if len(tq.groups) == 0 {
		if len(tq.not) > 0 {
			return textQuery{}, errors.New("only excluded words: give at least one word to search for")
		}
		return textQuery{}, errors.New("no word to search for")
	}
	return tq, nil
}

// fts5 returns the query in SQLite FTS5 syntax. Every term is a quoted
// string, so that nothing a user types is read as an FTS5 operator.
func (tq textQuery) fts5() string {
	quote := func(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }
	var groups []string
	for _, g := range tq.groups {
		terms := make([]string, len(g))
		for i, t := range g {
			terms[i] = quote(t)
		}
		groups = append(groups, "("+strings.Join(terms, " AND ")+")")
	}
	s := strings.Join(groups, " OR ")
	if len(tq.not) > 0 {
		not := make([]string, len(tq.not))
		for i, t := range tq.not {
			not[i] = quote(t)
		}
		s = "(" + s + ") NOT (" + strings.Join(not, " OR ") + ")"
	}
	return s
}

// tsquery returns a PostgreSQL tsquery expression over the 'simple' text
// search configuration: each term a parameter read by websearch_to_tsquery
// as a quoted phrase (a term holds only letters, digits and spaces), joined
// with the tsquery operators; arg adds a parameter and returns its
// placeholder.
func (tq textQuery) tsquery(arg func(any) string) string {
	term := func(t string) string { return "websearch_to_tsquery('simple', " + arg(`"`+t+`"`) + ")" }
	var groups []string
	for _, g := range tq.groups {
		terms := make([]string, len(g))
		for i, t := range g {
			terms[i] = term(t)
		}
		groups = append(groups, "("+strings.Join(terms, " && ")+")")
	}
	s := "(" + strings.Join(groups, " || ") + ")"
	for _, t := range tq.not {
		s += " && !!" + term(t)
	}
	return s
}
