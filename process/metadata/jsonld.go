package metadata

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
)

// ldArticle is what the page's JSON-LD says about its main item.
type ldArticle struct {
	rank          int // how article-like the item's type is; higher is better
	headline      string
	datePublished string
	dateModified  string
	authors       []string
	orgAuthors    map[string]bool // authors the JSON-LD types as organizations
	publisher     string
	section       string
	keywords      []string
	image         string
	url           string
	description   string
	language      string
	org           string // the item's name when it is a news organization
}

// ldTypeRank ranks a schema.org type by how likely its item is the page's
// article.
func ldTypeRank(types []string) int {
	best := 0
	for _, t := range types {
		t = strings.TrimPrefix(strings.TrimPrefix(t, "http://schema.org/"), "https://schema.org/")
		r := 0
		switch {
		case strings.HasSuffix(t, "Article"), t == "BlogPosting", t == "Report", t == "LiveBlogPosting", t == "SocialMediaPosting", t == "Review":
			r = 4
		case t == "WebPage" || t == "ItemPage" || t == "AboutPage":
			r = 2
		case t == "VideoObject" || t == "Event" || t == "Recipe" || t == "CreativeWork" || t == "Product":
			r = 1
		}
		best = max(best, r)
	}
	return best
}

// rxLDDate finds dates in JSON-LD that does not parse as JSON.
var rxLDDate = regexp.MustCompile(`"(datePublished|dateModified|dateCreated)"\s*:\s*"([^"]{6,40})"`)

// parseJSONLD reads the best article-like item from the page's JSON-LD
// scripts.
func parseJSONLD(scripts []string) ldArticle {
	var items []ldArticle
	var fallback ldArticle // dates read from JSON that does not parse
	for _, s := range scripts {
		s = strings.TrimSpace(s)
		s = strings.TrimSuffix(strings.TrimPrefix(s, "<!--"), "-->")
		s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "//<![CDATA["), "//]]>")
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			for _, m := range rxLDDate.FindAllStringSubmatch(s, 4) {
				switch {
				case m[1] != "dateModified" && fallback.datePublished == "":
					fallback.datePublished = m[2]
				case m[1] == "dateModified" && fallback.dateModified == "":
					fallback.dateModified = m[2]
				}
			}
			continue
		}
		visitLD(v, 0, func(obj map[string]any) {
			if len(items) < 100 {
				items = append(items, readLDItem(obj))
			}
		})
	}
	best, bestIdx := fallback, -1
	for i, a := range items {
		if a.rank == 0 && a.datePublished == "" {
			continue
		}
		if bestIdx < 0 || a.rank > best.rank || (a.rank == best.rank && best.datePublished == "" && a.datePublished != "") {
			best, bestIdx = a, i
		}
	}
	if bestIdx >= 0 && best.datePublished == "" && best.dateModified == "" {
		best.datePublished, best.dateModified = fallback.datePublished, fallback.dateModified
	}
	for _, a := range items {
		if best.publisher != "" {
			break
		}
		best.publisher = a.publisher
	}
	if best.publisher == "" {
		for _, a := range items {
			if a.org != "" {
				best.publisher = a.org
				break
			}
		}
	}
	return best
}

// visitLD calls f for every JSON object in v that has a @type.
func visitLD(v any, depth int, f func(map[string]any)) {
	if depth > 6 {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			visitLD(e, depth+1, f)
		}
	case map[string]any:
		if _, ok := x["@type"]; ok {
			f(x)
		}
		if g, ok := x["@graph"]; ok {
			visitLD(g, depth+1, f)
		}
		if m, ok := x["mainEntity"]; ok {
			visitLD(m, depth+1, f)
		}
	}
}

func ldStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, ldStrings(e)...)
		}
		return out
	}
	return nil
}

// ldString returns the first string in v, with HTML entities (which some
// sites leave in their JSON-LD) decoded.
func ldString(v any) string {
	if s := ldStrings(v); len(s) > 0 {
		return strings.TrimSpace(unescape(s[0]))
	}
	return ""
}

func unescape(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	return html.UnescapeString(s)
}

// ldName returns a person's or organization's name, or a bare string.
func ldNames(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{unescape(x)}
	case map[string]any:
		if n := ldString(x["name"]); n != "" {
			return []string{n}
		}
		g, f := ldString(x["givenName"]), ldString(x["familyName"])
		if g+f != "" {
			return []string{strings.TrimSpace(g + " " + f)}
		}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, ldNames(e)...)
		}
		return out
	}
	return nil
}

// ldOrgNames returns the names in v whose @type is an organization.
func ldOrgNames(v any) map[string]bool {
	var out map[string]bool
	var rec func(any)
	rec = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, t := range ldStrings(x["@type"]) {
				if strings.HasSuffix(t, "Organization") || t == "Corporation" || t == "WebSite" || t == "Brand" {
					if n := ldString(x["name"]); n != "" {
						if out == nil {
							out = map[string]bool{}
						}
						out[n] = true
					}
				}
			}
		case []any:
			for _, e := range x {
				rec(e)
			}
		}
	}
	rec(v)
	return out
}

// ldURL returns a URL given as a string, an object with url or @id, or a
// list of them.
func ldURL(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case map[string]any:
		if u := ldString(x["url"]); u != "" {
			return u
		}
		if u := ldString(x["contentUrl"]); u != "" {
			return u
		}
		return ldString(x["@id"])
	case []any:
		for _, e := range x {
			if u := ldURL(e); u != "" {
				return u
			}
		}
	}
	return ""
}

func readLDItem(obj map[string]any) ldArticle {
	a := ldArticle{rank: ldTypeRank(ldStrings(obj["@type"]))}
	a.headline = ldString(obj["headline"])
	if a.headline == "" && a.rank >= 2 {
		a.headline = ldString(obj["name"])
	}
	a.datePublished = ldString(obj["datePublished"])
	if a.datePublished == "" {
		a.datePublished = ldString(obj["dateCreated"])
	}
	if a.datePublished == "" {
		a.datePublished = ldString(obj["uploadDate"])
	}
	a.dateModified = ldString(obj["dateModified"])
	by := obj["author"]
	if by == nil {
		by = obj["creator"]
	}
	a.authors = ldNames(by)
	a.orgAuthors = ldOrgNames(by)
	if pub, ok := obj["publisher"]; ok {
		if n := ldNames(pub); len(n) > 0 {
			a.publisher = n[0]
		}
	}
	a.section = ldString(obj["articleSection"])
	switch k := obj["keywords"].(type) {
	case string:
		a.keywords = strings.Split(unescape(k), ",")
	case []any:
		a.keywords = ldStrings(k)
	}
	a.image = ldURL(obj["image"])
	if a.image == "" {
		a.image = ldURL(obj["thumbnailUrl"])
	}
	a.url = ldString(obj["url"])
	if a.url == "" {
		a.url = ldURL(obj["mainEntityOfPage"])
	}
	a.description = ldString(obj["description"])
	a.language = ldString(obj["inLanguage"])
	for _, t := range ldStrings(obj["@type"]) {
		if t == "NewsMediaOrganization" || t == "Organization" || t == "WebSite" {
			a.org = ldString(obj["name"])
		}
	}
	return a
}
