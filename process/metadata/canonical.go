package metadata

import (
	"net/url"
	"strings"
)

// trackingParams are query parameters that only track who clicked where.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "mc_cid": true, "mc_eid": true,
	"igshid": true, "ref_src": true, "ref_url": true, "_ga": true, "_gl": true, "yclid": true,
	"msclkid": true, "twclid": true, "ttclid": true, "li_fat_id": true, "wt.mc_id": true, "wt_mc_id": true,
	"cmpid": true, "cmp": true, "ito": true, "ncid": true, "sr_share": true, "spm": true,
	"ocid": true, "_hsenc": true, "_hsmi": true, "mkt_tok": true, "vero_id": true, "s_cid": true,
	"at_medium": true, "at_campaign": true, "at_custom1": true, "smid": true,
	"xtor": true, "oly_enc_id": true, "oly_anon_id": true, "rb_clickid": true, "soc_src": true, "soc_trk": true,
	"guccounter": true, "guce_referrer": true, "guce_referrer_sig": true, "amp": true, "outputtype": true,
}

// trackingPrefixes are prefixes of tracking parameter names.
var trackingPrefixes = []string{"utm_", "pk_", "mtm_", "hsa_", "at_", "__twitter", "ga_"}

// CleanURL makes raw absolute against base and removes what does not name
// the article: tracking parameters, the fragment, AMP variants (an /amp/
// path segment, ?amp=1, an amp. host, .amp.html), the default port and
// upper case in the host. It returns "" when raw is not an http(s) URL.
func CleanURL(raw string, base *url.URL) string {
	return cleanURL(raw, base, false)
}

// TrimURL is CleanURL without the AMP mapping: the address as it was seen,
// without tracking parameters, fragment, user, default port or upper case
// in the host. It returns "" when raw is not an absolute http(s) URL.
func TrimURL(raw string) string {
	return cleanURL(raw, nil, true)
}

func cleanURL(raw string, base *url.URL, keepAMP bool) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	} else if u.Scheme == "" && strings.HasPrefix(raw, "//") {
		u.Scheme = "https"
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	host = strings.TrimSuffix(host, ".")
	if !keepAMP && strings.HasPrefix(host, "amp.") && strings.Count(host, ".") >= 2 {
		host = strings.TrimPrefix(host, "amp.")
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	u.User = nil

	// AMP paths.
	path := u.EscapedPath()
	switch {
	case keepAMP: // as seen
	case strings.HasSuffix(path, "/amp") || strings.HasSuffix(path, "/amp/"):
		path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), "/amp")
		if path == "" {
			path = "/"
		} else if strings.HasSuffix(u.EscapedPath(), "/amp/") {
			path += "/"
		}
	case strings.HasPrefix(path, "/amp/"):
		path = strings.TrimPrefix(path, "/amp")
	case strings.Contains(path, "/amp/"):
		path = strings.Replace(path, "/amp/", "/", 1)
	}
	switch {
	case keepAMP:
	case strings.HasSuffix(path, ".amp.html"):
		path = strings.TrimSuffix(path, ".amp.html") + ".html"
	case strings.HasSuffix(path, ".amp"):
		path = strings.TrimSuffix(path, ".amp")
	}
	if p, err := url.PathUnescape(path); err == nil {
		u.Path, u.RawPath = p, path
		if u.EscapedPath() != path {
			u.RawPath = ""
		}
	}

	// Query without tracking parameters; the kept ones stay in their order.
	if u.RawQuery != "" {
		var kept []string
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k := kv
			if i := strings.IndexByte(kv, '='); i >= 0 {
				k = kv[:i]
			}
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if isTracking(strings.ToLower(k)) {
				continue
			}
			kept = append(kept, kv)
		}
		u.RawQuery = strings.Join(kept, "&")
	}
	u.ForceQuery = false
	return u.String()
}

func isTracking(k string) bool {
	if trackingParams[k] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// canonicalURL returns the article's canonical URL: link rel=canonical,
// og:url or the JSON-LD url, made absolute and cleaned, else the page's
// own URL cleaned. A canonical link that points to a site's home page
// while the page is deeper is a template's mistake and is ignored.
func canonicalURL(p *page, ld ldArticle, base *url.URL) string {
	var basePath string
	if base != nil {
		basePath = base.Path
	}
	for _, c := range []string{p.canonical, p.meta("og:url"), ld.url} {
		u := CleanURL(c, base)
		if u == "" {
			continue
		}
		if pu, err := url.Parse(u); err == nil && (pu.Path == "" || pu.Path == "/") && pu.RawQuery == "" && len(basePath) > 1 {
			continue
		}
		return u
	}
	if base != nil {
		return CleanURL(base.String(), nil)
	}
	return ""
}

// hostVariants are host prefixes that name another edition of the same
// site's pages: the desktop, mobile and AMP addresses of one article.
var hostVariants = []string{"www.", "m.", "mobile.", "amp."}

// URLKey returns the identity of an article address for matching one
// story seen under several URLs: CleanURL's form (no tracking parameters,
// fragment or AMP variant) without the scheme, with a "www.", "m.",
// "mobile." or "amp." host prefix and a trailing slash removed, so that
// the http and https, desktop, mobile and AMP addresses of a page give one
// key, such as "news.example.org/2026/ferry?id=4". It returns "" when raw
// is not an absolute http(s) URL.
func URLKey(raw string) string {
	c := CleanURL(raw, nil)
	if c == "" {
		return ""
	}
	// Cleaning drops one AMP marker at a time: clean until nothing changes.
	for i := 0; i < 8; i++ {
		next := CleanURL(c, nil)
		if next == c || next == "" {
			break
		}
		c = next
	}
	u, err := url.Parse(c)
	if err != nil {
		return ""
	}
	host := u.Host
	for again := true; again; {
		again = false
		for _, p := range hostVariants {
			if strings.HasPrefix(host, p) && strings.Count(host, ".") >= 2 {
				host, again = strings.TrimPrefix(host, p), true
			}
		}
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	key := host + path
	if u.RawQuery != "" {
		key += "?" + u.RawQuery
	}
	return key
}

// URLKeyHost returns the host part of a key made by URLKey: the site
// whose pages are compared by content when their addresses differ.
func URLKeyHost(key string) string {
	if i := strings.IndexAny(key, "/?"); i >= 0 {
		return key[:i]
	}
	return key
}
